/**
 * Injected misbehaviour of the sample upstream. Only tests inject faults (`npm start` never does),
 * but they drive them through the running server, so the queue lives with it. Faults are queued per
 * (id, endpoint) and each request consumes at most one, in order.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { UpstreamErrorStatus } from './exchange.js';
import type { UpstreamEndpoint } from './routes.js';

/** One injected misbehaviour, consumed by one request. */
export type UpstreamFault =
  | StatusFault
  /** Content only: `Content-MD5` is a valid base64 MD5, of other bytes. */
  | { kind: 'wrong-content-md5' }
  /** Content only: no `Content-MD5` header at all. */
  | { kind: 'no-content-md5' }
  /** Content only: serves `afterBytes` bytes, then ends the chunked body cleanly (terminating chunk sent). */
  | { kind: 'truncate'; afterBytes: number }
  /** Content only: serves `afterBytes` bytes, then closes the connection (no terminating chunk). */
  | { kind: 'reset'; afterBytes: number }
  /** Waits `ms` before sending the response headers, then answers normally. */
  | { kind: 'stall'; ms: number };

export interface StatusFault {
  /** Answer with this error status and the documented error body. */
  status: UpstreamErrorStatus;
  /** Sets `x-should-retry: true|false`. */
  shouldRetry?: boolean;
  /** Sets `retry-after` (seconds). A 429 without either field sends `retry-after: 0`. */
  retryAfterSeconds?: number;
  /** Sets `retry-after-ms` (and `retry-after` rounded up). */
  retryAfterMs?: number;
}

/** The faults that change how content is served rather than whether it is. */
export type ContentFault = Extract<
  UpstreamFault,
  { kind: 'wrong-content-md5' | 'no-content-md5' | 'truncate' | 'reset' }
>;

const CONTENT_ONLY_FAULTS = new Set(['wrong-content-md5', 'no-content-md5', 'truncate', 'reset']);

export class FaultQueue {
  private readonly queued = new Map<string, UpstreamFault[]>();

  /** Appends faults for the next requests to an endpoint of `id`; refuses content faults elsewhere. */
  inject(id: string, endpoint: UpstreamEndpoint, faults: UpstreamFault[]): void {
    for (const f of faults) {
      if ('kind' in f && CONTENT_ONLY_FAULTS.has(f.kind) && endpoint !== 'content') {
        throw new Error(`fault ${f.kind} applies to the content endpoint only`);
      }
    }
    const key = faultKey(id, endpoint);
    this.queued.set(key, [...(this.queued.get(key) ?? []), ...faults]);
  }

  /** Removes and returns the next fault for this request, if any. */
  take(id: string, endpoint: UpstreamEndpoint): UpstreamFault | undefined {
    return this.queued.get(faultKey(id, endpoint))?.shift();
  }
}

function faultKey(id: string, endpoint: UpstreamEndpoint): string {
  return `${endpoint} ${id}`;
}

export function isContentFault(fault: UpstreamFault | undefined): fault is ContentFault {
  return fault !== undefined && 'kind' in fault && CONTENT_ONLY_FAULTS.has(fault.kind);
}

/** The retry headers a status fault asks for. */
export function faultHeaders(fault: StatusFault): Record<string, string> {
  const headers: Record<string, string> = {};
  if (fault.shouldRetry !== undefined) headers['x-should-retry'] = String(fault.shouldRetry);
  if (fault.retryAfterMs !== undefined) {
    headers['retry-after-ms'] = String(fault.retryAfterMs);
    headers['retry-after'] = String(Math.ceil(fault.retryAfterMs / 1000));
  }
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  if (fault.status === 429 && headers['retry-after'] === undefined) headers['retry-after'] = '0';
  return headers;
}

/** Waits `ms` before the response; false when the client (or the server's close()) gave up first. */
export async function waitOutStall(res: ServerResponse, ms: number): Promise<boolean> {
  const left = new AbortController();
  const onClose = (): void => left.abort();
  res.once('close', onClose);
  try {
    await delay(ms, undefined, { signal: left.signal });
    return true;
  } catch {
    return false;
  } finally {
    res.off('close', onClose);
  }
}
