import { createServer, request } from 'node:http';
import { closeHttpServer, listenOnLoopback } from '../../local/loopback.js';

export interface S3WriteCounter {
  endpoint: string;
  /** Requests that made an object visible at `bucket/key`: successful PutObject and CompleteMultipartUpload. */
  commits(bucket: string, key: string): number;
  /** Multipart uploads created in `bucket` so far. */
  createdUploads(bucket: string): number;
  /** Multipart uploads in `bucket` that were created and neither completed nor aborted successfully. */
  openUploads(bucket: string): number;
  close(): Promise<void>;
}

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  status: number | undefined;
  /** For CreateMultipartUpload: the UploadId in the answer. */
  createdUploadId?: string;
}

/**
 * A loopback proxy in front of a local S3 server that records each request and the server's answer.
 * Neither local S3 server keeps object versions, and fauxqs never lists open multipart uploads, so
 * "one object version" and "no upload left open" are observed here, on the wire.
 */
export async function startS3WriteCounter(
  target: string,
  opts: { preserveHost?: boolean } = {},
): Promise<S3WriteCounter> {
  const upstream = new URL(target);
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const entry: Seen = {
      method: req.method ?? '',
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      status: undefined,
    };
    seen.push(entry);
    const isCreate = entry.method === 'POST' && url.searchParams.has('uploads');
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        // A server that verifies signatures (the RADOS Gateway) must see the Host the client signed.
        headers: opts.preserveHost ? req.headers : { ...req.headers, host: upstream.host },
      },
      (answer) => {
        entry.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (!isCreate) {
          answer.pipe(res);
          return;
        }
        let xml = '';
        answer.on('data', (chunk: Buffer) => {
          xml += chunk.toString('utf8');
          res.write(chunk);
        });
        answer.on('end', () => {
          const id = /<UploadId>([^<]+)<\/UploadId>/.exec(xml)?.[1];
          if (id !== undefined) entry.createdUploadId = id;
          res.end();
        });
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  const port = await listenOnLoopback(server);
  const ok = (s: Seen) => s.status !== undefined && s.status >= 200 && s.status < 300;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    commits: (bucket, key) =>
      seen.filter(
        (r) =>
          ok(r) &&
          r.path === `/${bucket}/${key}` &&
          ((r.method === 'PUT' && !r.query.has('uploadId')) || (r.method === 'POST' && r.query.has('uploadId'))),
      ).length,
    createdUploads: (bucket) =>
      seen.filter((r) => r.path.startsWith(`/${bucket}/`) && r.createdUploadId !== undefined).length,
    openUploads(bucket) {
      const inBucket = seen.filter((r) => r.path.startsWith(`/${bucket}/`));
      const created = new Set(inBucket.flatMap((r) => (r.createdUploadId ? [r.createdUploadId] : [])));
      for (const r of inBucket) {
        const id = r.query.get('uploadId');
        const ends = (r.method === 'POST' || r.method === 'DELETE') && ok(r);
        if (id !== null && ends) created.delete(id);
      }
      return created.size;
    },
    close: () => closeHttpServer(server),
  };
}
