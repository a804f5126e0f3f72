import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { closeHttpServer, listenOnLoopback, LOOPBACK_HOST } from '../../local/loopback.js';
import { UpstreamListings } from '../../local/upstream-listings.js';
import type { ListedFile } from '../../local/upstream-listings.js';
import { ANTHROPIC_VERSION, digestContent, FILES_API_BETA } from '../../local/upstream-server.js';
import type { UpstreamFile } from '../../local/upstream-server.js';
import { TEST_UPSTREAM_API_KEY } from './upstream.js';

export interface ListingUpstream {
  url: string;
  listings: UpstreamListings;
  addFiles(...files: UpstreamFile[]): Promise<void>;
  removeFile(id: string): void;
  /** Every request: path, query and status. */
  readonly requests: { path: string; query: URLSearchParams; status: number; requestId: string }[];
  close(): Promise<void>;
}

/** The local upstream's listing endpoints alone, with its auth and header rules, for poller tests. */
export async function startListingUpstream(): Promise<ListingUpstream> {
  const files = new Map<string, ListedFile>();
  const listings = new UpstreamListings(() => files.values());
  const requests: ListingUpstream['requests'] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const requestId = `req_${randomBytes(8).toString('hex')}`;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      requests.push({ path: url.pathname, query: url.searchParams, status, requestId });
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId, ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.headers['x-api-key'] !== TEST_UPSTREAM_API_KEY) return send(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    if (req.headers['anthropic-version'] !== ANTHROPIC_VERSION) return send(400, { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version' } });
    if (url.pathname.startsWith('/v1/files') && req.headers['anthropic-beta'] !== FILES_API_BETA) {
      return send(400, { type: 'error', error: { type: 'invalid_request_error', message: 'beta header' } });
    }
    const answer = listings.handle(url.pathname, url.searchParams);
    if (!answer) return send(404, { type: 'error', error: { type: 'not_found_error', message: 'Not found' } });
    send(answer.status, answer.body, answer.headers);
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://${LOOPBACK_HOST}:${port}`,
    listings,
    async addFiles(...added) {
      for (const file of added) {
        const digest = await digestContent(file.content);
        files.set(file.id, { file, md5Hex: digest.md5Hex, sizeBytes: digest.sizeBytes });
      }
    },
    removeFile: (id) => void files.delete(id),
    requests,
    close: () => closeHttpServer(server),
  };
}
