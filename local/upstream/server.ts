/**
 * A local imitation of the upstream APIs the archiver reads (Compliance API files and chat messages,
 * Files API), following the facts in docs/upstream-api-facts.md. It serves the built-in sample for
 * `npm start` and is the fault-injecting upstream of the integration tests and the benchmark.
 *
 * Behaviour worth knowing:
 * - Auth: `x-api-key` must equal the configured key (Compliance paths also accept
 *   `Authorization: Bearer <key>`); 401 otherwise. `anthropic-version: 2023-06-01` is required (400);
 *   `/v1/files/*` also needs `anthropic-beta: files-api-2025-04-14` (400). See api-headers.ts.
 * - Every response carries a unique `request-id` and `anthropic-ratelimit-requests-*` headers; error
 *   bodies are `{"type":"error","error":{"type","message"},"request_id"}`. See exchange.ts.
 * - The endpoints are the rows of routes.ts; file content and its digests come from content.ts.
 * - Faults are queued per (file id, endpoint) and each request consumes at most one, in order
 *   (faults.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeHttpServer, listenOnLoopback, LOOPBACK_HOST } from '../loopback.js';
import {
  ANTHROPIC_VERSION,
  FILES_API_BETA,
  createRateLimitWindow,
  createTokenBucket,
  hasFilesApiBeta,
  isAuthorized,
} from './api-headers.js';
import { FileCatalogue, type UpstreamFile } from './catalogue.js';
import type { ContentDigest } from './content.js';
import { openExchange, type UpstreamRequest } from './exchange.js';
import { FaultQueue, faultHeaders, isContentFault, waitOutStall, type UpstreamFault } from './faults.js';
import { UpstreamListings } from './listings.js';
import { matchRoute, type UpstreamEndpoint } from './routes.js';

export interface UpstreamServerOptions {
  apiKey: string;
  files?: UpstreamFile[];
  /** Reported in the rate-limit headers (enforced only with `enforceRateLimit`). Default 600. */
  requestsPerMinute?: number;
  /**
   * Answer 429 (with `retry-after`) above `requestsPerMinute`, as a token bucket holding `burstSeconds` of requests.
   */
  enforceRateLimit?: { burstSeconds: number };
}

export interface UpstreamServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  /** Adds or replaces a file; resolves once its digest is known (a pre-pass over seeded content). */
  addFile(file: UpstreamFile): Promise<void>;
  /** Removes a file, as a hard delete upstream does: its requests answer 404 afterwards. */
  removeFile(id: string): void;
  /** Queues faults for the next requests to an endpoint of a file (or chat, for `messages`). */
  injectFault(id: string, endpoint: UpstreamEndpoint, ...faults: UpstreamFault[]): void;
  /** The size and hashes of a file's full content. */
  digestOf(id: string): Promise<ContentDigest>;
  /** Chat facts (soft deletion) and the activity feed, beside the chats derived from the files. */
  readonly listings: UpstreamListings;
  /** Every request received so far, oldest first (a live array). */
  readonly requests: readonly UpstreamRequest[];
  /** How many requests matched the id and endpoint (either may be omitted). */
  requestCount(id?: string, endpoint?: UpstreamEndpoint): number;
  /** Stops the server, cutting open connections and stalls. */
  close(): Promise<void>;
}

/** Starts the imitation upstream on 127.0.0.1 (free port); resolves once every given file is ready. */
export async function startUpstreamServer(opts: UpstreamServerOptions): Promise<UpstreamServer> {
  const catalogue = new FileCatalogue();
  const listings = new UpstreamListings(catalogue);
  const faults = new FaultQueue();
  const requests: UpstreamRequest[] = [];
  const rateLimitHeaders = createRateLimitWindow(opts.requestsPerMinute ?? 600);
  const admit = opts.enforceRateLimit
    ? createTokenBucket(opts.requestsPerMinute ?? 600, opts.enforceRateLimit.burstSeconds)
    : () => 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const exchange = openExchange(req, res, requests);
    const { entry } = exchange;
    const match = matchRoute(entry.path);
    if (match) {
      entry.id = match.id;
      entry.endpoint = match.route.endpoint;
    }

    // Requests failing authentication do not count against the limit; everything after does.
    const authorized = isAuthorized(req, opts.apiKey, entry.path);
    for (const [name, value] of Object.entries(rateLimitHeaders(authorized))) res.setHeader(name, value);
    if (!authorized) {
      exchange.fail(401, 'invalid x-api-key');
      return;
    }
    const waitMs = admit();
    if (waitMs > 0) {
      exchange.fail(429, 'rate limit exceeded', { 'retry-after': String(Math.ceil(waitMs / 1000)) });
      return;
    }
    if (req.headers['anthropic-version'] !== ANTHROPIC_VERSION) {
      exchange.fail(400, `anthropic-version: header is required and must be ${ANTHROPIC_VERSION}`);
      return;
    }
    if (!match) {
      exchange.fail(404, 'Not found');
      return;
    }
    if (req.method !== 'GET') {
      exchange.fail(400, `${req.method ?? ''} is not supported on ${entry.path}`);
      return;
    }
    if (match.route.api === 'files' && !hasFilesApiBeta(req)) {
      exchange.fail(400, `the Files API requires the anthropic-beta: ${FILES_API_BETA} header`);
      return;
    }

    const fault = faults.take(match.id, match.route.endpoint);
    if (fault) entry.fault = fault;
    if (fault && 'kind' in fault && fault.kind === 'stall' && !(await waitOutStall(res, fault.ms))) {
      return; // the client (or close()) gave up during the stall
    }
    if (fault && 'status' in fault) {
      exchange.fail(fault.status, `injected ${fault.status}`, faultHeaders(fault));
      return;
    }
    await match.route.handle({
      exchange,
      id: match.id,
      catalogue,
      listings,
      contentFault: isContentFault(fault) ? fault : undefined,
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in this server, not an upstream behaviour: make it loud in the test output.
      console.error('upstream-server: request handler failed', err);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"type":"error","error":{"type":"api_error","message":"local upstream bug"}}');
      } else {
        res.destroy();
      }
    });
  });

  for (const file of opts.files ?? []) await catalogue.add(file);
  const port = await listenOnLoopback(server);

  return {
    url: `http://${LOOPBACK_HOST}:${port}`,
    addFile: (file) => catalogue.add(file),
    removeFile: (id) => catalogue.remove(id),
    injectFault(id, endpoint, ...newFaults) {
      faults.inject(id, endpoint, newFaults);
    },
    async digestOf(id) {
      const stored = catalogue.get(id);
      if (!stored) throw new Error(`no upstream file ${id}`);
      return stored.digest;
    },
    listings,
    requests,
    requestCount(id, endpoint) {
      return requests.filter(
        (r) => (id === undefined || r.id === id) && (endpoint === undefined || r.endpoint === endpoint),
      ).length;
    },
    close: () => closeHttpServer(server),
  };
}
