import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { UpstreamContractError } from '../../shared/platform/errors.js';
import { createListingClient } from '../../shared/upstream/listing-client.js';
import { createUpstreamAgent } from '../../shared/upstream/upstream-client.js';

const CAP = 1024 * 1024;
const SENT_IN_ALL = 64 * CAP;

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A loopback upstream whose messages page never ends soon: it streams 64 MiB, counting what it could send. */
async function endlessPageServer(): Promise<{ baseUrl: string; sent: () => number; closed: Promise<void> }> {
  let sent = 0;
  let onClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    onClosed = resolve;
  });
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_big' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    res.write('{"id":"claude_chat_big","chat_messages":[');
    const pump = () => {
      while (sent < SENT_IN_ALL) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end('],"has_more":false,"last_id":null}');
    };
    res.on('close', onClosed);
    req.resume();
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sent: () => sent, closed };
}

describe('listing pages over the size cap', () => {
  it(
    'are refused after reading about the cap, not buffered whole ' + 'first (a per-chat failure for the poller)',
    async () => {
      const upstream = await endlessPageServer();
      const client = createListingClient({
        baseUrl: upstream.baseUrl,
        apiKey: 'sk-test',
        dispatcher: createUpstreamAgent(),
        maxListingBytes: CAP,
      });

      const read = client.listChatMessages('claude_chat_big', { limit: 1000 }, new AbortController().signal);

      await expect(read).rejects.toBeInstanceOf(UpstreamContractError);
      await expect(read).rejects.toThrow(`is larger than ${CAP} bytes`);
      await upstream.closed;
      // The client hung up near the cap: socket buffers hold a few MiB at most, never the 64 MiB page.
      expect(upstream.sent()).toBeLessThan(SENT_IN_ALL / 4);
    },
  );
});
