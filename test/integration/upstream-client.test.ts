import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyProvider } from '../../shared/upstream/api-key.js';
import { UpstreamAuthError } from '../../shared/platform/errors.js';
import { createUpstreamAgent, createUpstreamClient } from '../../shared/upstream/upstream-client.js';
import type { UpstreamServer } from '../../local/upstream/server.js';
import {
  TEST_UPSTREAM_API_KEY,
  filesApiFileFactory,
  generatedFileFactory,
  startTestUpstream,
} from '../support/upstream.js';

const generated = generatedFileFactory();
const filesApi = filesApiFileFactory();
let upstream: UpstreamServer;
const agent = createUpstreamAgent();

beforeAll(async () => {
  upstream = await startTestUpstream([generated, filesApi]);
});
afterAll(async () => {
  await upstream.close();
  await agent.close();
});

describe('upstream client against the test upstream', () => {
  it('picks up a replaced key after upstream refuses the old one, without a restart', async () => {
    let secret = 'sk-ant-api01-revoked';
    const client = createUpstreamClient({
      baseUrl: upstream.url,
      apiKey: createApiKeyProvider(async (force) => (force ? secret : 'sk-ant-api01-revoked'), {
        minRefreshIntervalMs: 0,
      }),
      dispatcher: agent,
    });
    const signal = new AbortController().signal;
    await expect(client.fetchMetadata(generated.id, 'generated', signal)).rejects.toBeInstanceOf(UpstreamAuthError);

    secret = TEST_UPSTREAM_API_KEY; // the operator puts the right key in the secret

    const { metadata } = await client.fetchMetadata(generated.id, 'generated', signal);
    expect(metadata).toMatchObject({ fileId: generated.id, chatIds: [generated.chatId] });
  });

  it('sends the beta header the Files API requires', async () => {
    const client = createUpstreamClient({ baseUrl: upstream.url, apiKey: TEST_UPSTREAM_API_KEY, dispatcher: agent });
    const signal = new AbortController().signal;
    const { metadata } = await client.fetchMetadata(filesApi.id, 'files_api', signal);
    expect(metadata.downloadable).toBe(true);
    // The test upstream answers 400 to a Files API request without the beta header.
    expect(upstream.requests.filter((r) => r.id === filesApi.id).map((r) => r.status)).toEqual([200]);
  });
});
