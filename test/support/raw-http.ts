import { connect } from 'node:net';

/** What came back for a raw request: the final (non-1xx) status line, headers and body, if any. */
export interface RawResponse {
  /** Undefined when the server closed the connection without a parsable response. */
  status: number | undefined;
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent, for failure messages. */
  raw: string;
}

/**
 * Sends bytes exactly as given on a fresh TCP connection and reads until the server closes it, so
 * that request lines and headers a well-behaved HTTP client would refuse to build really reach the
 * server. The request should say `Connection: close`; the read is bounded by `timeoutMs`.
 */
export function sendRawHttp(port: number, request: Buffer, timeoutMs = 5_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `no complete answer within ${timeoutMs} ms; received so far: ` +
            `${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`,
        ),
      );
    }, timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may close while we are still writing a large body: what it answered still counts.
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRawResponse(Buffer.concat(chunks).toString('latin1')));
    });
  });
}

/** Parses an HTTP/1.1 response stream, skipping interim 1xx responses (100 Continue). */
export function parseRawResponse(raw: string): RawResponse {
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return { status: undefined, headers: {}, body: '', raw };
    const [statusLine = '', ...headerLines] = rest.slice(0, end).split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!match?.[1]) return { status: undefined, headers: {}, body: '', raw };
    const status = Number(match[1]);
    rest = rest.slice(end + 4);
    if (status >= 100 && status < 200) continue;
    const headers: Record<string, string> = {};
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const body = headers['transfer-encoding']?.toLowerCase() === 'chunked' ? dechunk(rest) : rest;
    return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8'), raw };
  }
}

function dechunk(text: string): string {
  let out = '';
  let rest = text;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    if (lineEnd < 0) return out;
    const size = Number.parseInt(rest.slice(0, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}
