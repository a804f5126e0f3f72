import { createServer, request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { closeHttpServer, listenOnLoopback } from '../../local/loopback.js';

/**
 * S3's CRC32 checks, which none of the local servers makes (fauxqs, s3rver and Ceph Pacific ignore
 * every `x-amz-checksum-*` header), applied on the wire by a loopback proxy in front of a real local
 * server, as S3 documents them:
 * - PutObject and UploadPart with `x-amz-checksum-crc32`: the CRC-32 of the body received must match,
 *   else 400 BadDigest and nothing is stored;
 * - CompleteMultipartUpload with `x-amz-checksum-type: FULL_OBJECT` and `x-amz-checksum-crc32`: the
 *   CRC-32 of the parts' bytes in the order listed must match, and `x-amz-mp-object-size` their total,
 *   else 400 and the object does not appear.
 * The whole-object CRC here is computed over the stored part bytes, not combined from part CRCs, so
 * it checks the writer's combination independently. `damage` flips a byte of a chosen body before the
 * check, as a fault on the way would.
 */
export interface S3ChecksumChecker {
  endpoint: string;
  /** Damages the next body of the request kind given (a part by number, or a PutObject). */
  damageNext(target: { part: number } | 'put-object'): void;
  /** What was seen, in order: operation, the payload hash header, and whether the checksum check passed. */
  seen: { operation: string; contentSha256: string | undefined; checksum: 'ok' | 'bad-digest' | 'none' }[];
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export async function startS3ChecksumChecker(target: string): Promise<S3ChecksumChecker> {
  const upstream = new URL(target);
  const parts = new Map<string, Map<number, Buffer>>();
  const seen: S3ChecksumChecker['seen'] = [];
  let damage: { part: number } | 'put-object' | undefined;

  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const uploadId = url.searchParams.get('uploadId');
    const partNumber = Number(url.searchParams.get('partNumber'));
    const operation =
      req.method === 'PUT' && uploadId !== null && partNumber > 0
        ? 'UploadPart'
        : req.method === 'PUT' && !req.headers['x-amz-copy-source'] && url.pathname.split('/').length > 2
          ? 'PutObject'
          : req.method === 'POST' && uploadId !== null
            ? 'CompleteMultipartUpload'
            : `${req.method ?? ''} other`;
    let body = await readBody(req);
    const contentSha256 = header(req, 'x-amz-content-sha256');
    const claimed = header(req, 'x-amz-checksum-crc32');
    let checksum: 'ok' | 'bad-digest' | 'none' = 'none';

    if ((operation === 'UploadPart' || operation === 'PutObject') && claimed !== undefined) {
      const damaged =
        operation === 'PutObject' ? damage === 'put-object' : typeof damage === 'object' && damage.part === partNumber;
      if (damaged && body.length > 0) {
        damage = undefined;
        body = Buffer.from(body);
        const at = Math.floor(body.length / 2);
        body[at] = (body[at] ?? 0) ^ 0x01;
      }
      checksum = crc32Base64(body) === claimed ? 'ok' : 'bad-digest';
      seen.push({ operation, contentSha256, checksum });
      if (checksum === 'bad-digest')
        return refuse(res, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
      if (operation === 'UploadPart' && uploadId !== null) {
        const stored = parts.get(uploadId) ?? new Map<number, Buffer>();
        stored.set(partNumber, body);
        parts.set(uploadId, stored);
      }
    } else if (
      operation === 'CompleteMultipartUpload' &&
      uploadId !== null &&
      header(req, 'x-amz-checksum-type') === 'FULL_OBJECT' &&
      claimed !== undefined
    ) {
      const listed = [...body.toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
      const stored = parts.get(uploadId) ?? new Map<number, Buffer>();
      const bytes = listed.map((n) => stored.get(n) ?? Buffer.alloc(0));
      const size = bytes.reduce((sum, b) => sum + b.length, 0);
      const whole = bytes.reduce((crc, b) => crc32(b, crc), 0);
      checksum = crc32Base64FromValue(whole) === claimed ? 'ok' : 'bad-digest';
      seen.push({ operation, contentSha256, checksum });
      if (checksum === 'bad-digest') return refuse(res, 'BadDigest', 'The FULL_OBJECT CRC32 does not match the parts.');
      const declared = header(req, 'x-amz-mp-object-size');
      if (declared !== undefined && Number(declared) !== size)
        return refuse(res, 'InvalidRequest', 'The object size does not match the parts.');
    } else {
      seen.push({ operation, contentSha256, checksum });
    }
    forward(req, res, body);
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    // The body is already here: nothing to wait for.
    delete headers['expect'];
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    out.end(body);
  }

  const port = await listenOnLoopback(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    damageNext(next) {
      damage = next;
    },
    seen,
    close: () => closeHttpServer(server),
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_BODY_BYTES) throw new Error('request body too large for the checksum checker');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function crc32Base64(bytes: Buffer): string {
  return crc32Base64FromValue(crc32(bytes));
}

function crc32Base64FromValue(value: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}

function refuse(res: ServerResponse, code: string, message: string): void {
  res.writeHead(400, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}
