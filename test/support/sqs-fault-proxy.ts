import { createServer } from 'node:http';
import { request } from 'undici';
import { closeHttpServer, listenOnLoopback, LOOPBACK_HOST } from '../../local/loopback.js';

/** What the proxy does to the next SendMessageBatch call. */
export type BatchFault = 'fail-all-entries' | 'fail-first-entry';

export interface SqsFaultProxy {
  url: string;
  /** Queues faults, one per coming SendMessageBatch call, in order. */
  failBatches(...faults: BatchFault[]): void;
  /** SendMessageBatch calls seen, with the number of entries each carried. */
  readonly batchCalls: number[];
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of the real SQS server (fauxqs) that can refuse entries of the next
 * SendMessageBatch calls the way SQS does (`Failed` entries, `SenderFault: false`), forwarding the
 * other entries and every other call unchanged. fauxqs never refuses an entry by itself.
 */
export async function startSqsFaultProxy(target: string): Promise<SqsFaultProxy> {
  const faults: BatchFault[] = [];
  const batchCalls: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let body = Buffer.concat(chunks);
        const isBatch = req.headers['x-amz-target'] === 'AmazonSQS.SendMessageBatch';
        let refused: { Id: string }[] = [];
        if (isBatch) {
          const parsed = JSON.parse(body.toString('utf8')) as { QueueUrl: string; Entries: { Id: string }[] };
          batchCalls.push(parsed.Entries.length);
          const fault = faults.shift();
          if (fault === 'fail-all-entries') refused = parsed.Entries;
          if (fault === 'fail-first-entry') refused = parsed.Entries.slice(0, 1);
          const kept = parsed.Entries.filter((e) => !refused.includes(e));
          if (kept.length === 0) {
            res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
            res.end(JSON.stringify({ Successful: [], Failed: refused.map(failure) }));
            return;
          }
          body = Buffer.from(JSON.stringify({ ...parsed, Entries: kept }));
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers))
          if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
        const upstream = await request(`${target}${req.url ?? '/'}`, {
          method: (req.method ?? 'POST') as 'POST',
          headers,
          body,
        });
        let answer = Buffer.from(await upstream.body.arrayBuffer());
        if (isBatch && refused.length > 0 && upstream.statusCode === 200) {
          const parsed = JSON.parse(answer.toString('utf8')) as { Successful?: unknown[]; Failed?: unknown[] };
          answer = Buffer.from(
            JSON.stringify({ ...parsed, Failed: [...(parsed.Failed ?? []), ...refused.map(failure)] }),
          );
        }
        res.writeHead(upstream.statusCode, {
          'content-type': String(upstream.headers['content-type'] ?? 'application/x-amz-json-1.0'),
        });
        res.end(answer);
      })().catch(() => {
        res.writeHead(502);
        res.end();
      });
    });
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://${LOOPBACK_HOST}:${port}`,
    failBatches: (...added) => void faults.push(...added),
    batchCalls,
    close: () => closeHttpServer(server),
  };
}

function failure(entry: { Id: string }) {
  return { Id: entry.Id, SenderFault: false, Code: 'InternalError', Message: 'injected by the test proxy' };
}
