import { createServer, request } from 'node:http';
import { closeHttpServer, listenOnLoopback } from '../../local/loopback.js';

export interface S3WriteCounter {
  endpoint: string;
  /** Requests that make an object visible at `bucket/key`: PutObject and CompleteMultipartUpload. */
  commits(bucket: string, key: string): number;
  close(): Promise<void>;
}

/**
 * A loopback proxy in front of a local S3 server that records each request line. Neither local S3
 * server keeps object versions, so "exactly one object version" is observed as exactly one commit.
 */
export async function startS3WriteCounter(target: string): Promise<S3WriteCounter> {
  const upstream = new URL(target);
  const seen: { method: string; path: string; query: URLSearchParams }[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    seen.push({ method: req.method ?? '', path: decodeURIComponent(url.pathname), query: url.searchParams });
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  const port = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    commits: (bucket, key) =>
      seen.filter(
        (r) =>
          r.path === `/${bucket}/${key}` &&
          ((r.method === 'PUT' && !r.query.has('uploadId')) || (r.method === 'POST' && r.query.has('uploadId'))),
      ).length,
    close: () => closeHttpServer(server),
  };
}
