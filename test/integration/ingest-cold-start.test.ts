import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from '../support/run-script.js';

// The ingest handler module's cold start (lambdas/ingest/handler.ts), run as Lambda runs it: the
// module evaluated in a fresh process, the upstream key read from Secrets Manager (a loopback stand-in
// answering GetSecretValue over the SDK's protocol). A secret that cannot be read, or an empty one,
// fails the initialisation loudly instead of failing every record; a readable one lets it complete.

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:upstream-key-abcdef';

type Answer = { status: number; body: Record<string, unknown> };
let answer: Answer;
const targets: string[] = [];
const stub = createServer((req: IncomingMessage, res: ServerResponse) => {
  targets.push(String(req.headers['x-amz-target']));
  req.resume();
  req.on('end', () => {
    res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(answer.body));
  });
});
let endpoint: string;

beforeAll(async () => {
  stub.listen(0, '127.0.0.1');
  await once(stub, 'listening');
  const address = stub.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  endpoint = `http://127.0.0.1:${address.port}`;
});
afterAll(() => {
  stub.closeAllConnections();
  stub.close();
});

function coldStart() {
  targets.length = 0;
  return runScript('lambdas/ingest/handler.ts', [], {
    PATH: process.env['PATH'],
    ARCHIVE_BUCKET: 'archive-bucket',
    INDEX_TABLE: 'index-table',
    INGEST_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/ingest',
    DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/ingest-dlq',
    MAX_RECEIVE_COUNT: '5',
    ANTHROPIC_API_KEY_SECRET_ARN: SECRET_ARN,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'cold-start-test',
    AWS_SECRET_ACCESS_KEY: 'cold-start-test',
    AWS_EC2_METADATA_DISABLED: 'true',
    POWERTOOLS_SERVICE_NAME: 'archiver-ingest',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
}

describe('ingest cold start', () => {
  it('completes once the upstream key is read from its secret', async () => {
    answer = { status: 200, body: { ARN: SECRET_ARN, Name: 'upstream-key', SecretString: 'sk-ant-api01-cold' } };

    const run = await coldStart();

    expect(run.output).toBe('');
    expect(run.code).toBe(0);
    expect(targets).toEqual(['secretsmanager.GetSecretValue']);
  });

  it('fails the initialisation when the secret cannot be read', async () => {
    answer = {
      status: 400,
      body: { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." },
    };

    const run = await coldStart();

    expect(run.code).not.toBe(0);
    expect(run.output).toContain('ResourceNotFoundException');
  });

  it('fails the initialisation when the secret is empty', async () => {
    answer = { status: 200, body: { ARN: SECRET_ARN, Name: 'upstream-key', SecretString: '  ' } };

    const run = await coldStart();

    expect(run.code).not.toBe(0);
    expect(run.output).toContain('the upstream API key secret is empty');
  });
});
