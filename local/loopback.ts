import type { Server } from 'node:http';

/** Every local server binds here and nowhere else. */
export const LOOPBACK_HOST = '127.0.0.1';

/** Listens on 127.0.0.1 only (port 0 picks a free one) and resolves with the bound port. */
export function listenOnLoopback(server: Server, port = 0): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK_HOST, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('server is not listening on TCP'));
      else resolve(address.port);
    });
  });
}

/**
 * Closes a server without waiting for clients: the SDK and undici keep connections alive, and a
 * long poll or a stalled response would otherwise hold close() open.
 */
export function closeHttpServer(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((err) => (err ? reject(err) : resolve()));
    server.closeAllConnections();
  });
}
