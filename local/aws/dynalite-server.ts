import { mkdir } from 'node:fs/promises';
import dynalite from 'dynalite';
import { closeHttpServer, listenOnLoopback, LOOPBACK_HOST } from '../loopback.js';
import { callOnce, type RunningServer } from './running-server.js';

/** Starts dynalite on 127.0.0.1; tables are ACTIVE at once. With `path`, data persists there. */
export async function startDynalite(opts: { path?: string; port?: number } = {}): Promise<RunningServer> {
  if (opts.path) await mkdir(opts.path, { recursive: true });
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(opts.path ? { path: opts.path } : {}),
  });
  const port = await listenOnLoopback(server, opts.port ?? 0);
  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    port,
    stop: callOnce(() => closeHttpServer(server)),
  };
}
