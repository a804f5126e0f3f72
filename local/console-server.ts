/**
 * Serves the auditor console (console/dist, built by `npm run build:console`) on 127.0.0.1 with the
 * same security headers CloudFront adds when deployed, and its `config.json` written from the running
 * stack: the local lookup API, no sign-in, the caller shown as local.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';
import { CONSOLE_SECURITY_HEADERS, consoleContentSecurityPolicy } from '../shared/contracts/console-headers.js';
import { closeHttpServer, listenOnLoopback } from './loopback.js';

export const CONSOLE_DIST = fileURLToPath(new URL('../console/dist', import.meta.url));

export interface LocalConsoleConfig {
  apiUrl: string;
  region: string;
  caller: string;
  /** Origins the page may connect to besides the API (the local S3 endpoint of presigned downloads). */
  connectOrigins: string[];
}

export interface LocalConsoleServer {
  url: string;
  origin: string;
  /** The console reads its settings at load; set them once the lookup server is up. */
  configure(config: LocalConsoleConfig): void;
  close(): Promise<void>;
}

/** Starts the console's server; `built` is false when console/dist is missing (the page says how to build it). */
export async function startConsoleServer(
  opts: { port?: number; dist?: string } = {},
): Promise<LocalConsoleServer & { built: boolean }> {
  const dist = opts.dist ?? CONSOLE_DIST;
  const built = existsSync(`${dist}/index.html`);
  const assets = built ? sirv(dist, { etag: true, dev: false, dotfiles: false }) : undefined;
  let config: LocalConsoleConfig | undefined;
  const server = createServer((req, res) => {
    const connect = config ? [config.apiUrl, ...config.connectOrigins].map((u) => new URL(u).origin) : [];
    res.setHeader('Content-Security-Policy', consoleContentSecurityPolicy(connect));
    for (const [k, v] of Object.entries(CONSOLE_SECURITY_HEADERS)) {
      // HSTS means nothing over plain http on loopback; browsers ignore it there, so it is left out.
      if (k !== 'Strict-Transport-Security') res.setHeader(k, v);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Only GET is served here.\n');
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/config.json') {
      if (!config) {
        res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '1' }).end('The stack is still starting.\n');
        return;
      }
      const body = JSON.stringify({
        apiUrl: config.apiUrl,
        region: config.region,
        auth: { kind: 'local', caller: config.caller },
      });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(body);
      return;
    }
    if (!assets) {
      res
        .writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' })
        .end('The console is not built: run "npm run build:console" (npm start does it first), then reload.\n');
      return;
    }
    assets(req, res, () => {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found.\n');
    });
  });
  const port = await listenOnLoopback(server, opts.port ?? 0);
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    origin: url,
    built,
    configure: (c) => {
      config = c;
    },
    close: () => closeHttpServer(server),
  };
}
