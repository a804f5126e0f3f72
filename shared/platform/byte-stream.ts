/**
 * A response body read chunk by chunk, cheaply. Any async iterable of chunks is a body; one that also
 * offers `forEachChunk` is read through it instead. Reading a Node stream with 'data' events, pausing
 * it only while the consumer waits, costs about a third less CPU per chunk than `for await` over it
 * (measured on a 1 GB download in 64 KiB chunks: 1.2-1.3 against 1.5-1.8 CPU s per GB, undici body,
 * loopback), and with TLS the chunks are 16 KiB, so the per-chunk cost weighs more.
 */
import type { Readable } from 'node:stream';

/**
 * Called with each chunk in order. Returning a promise pauses the body until it settles; throwing or
 * rejecting stops reading, and the read fails with that error.
 */
export type ChunkConsumer = (chunk: Uint8Array) => void | Promise<void>;

export interface ByteStream extends AsyncIterable<Uint8Array> {
  /** Reads the whole body into `onChunk`; resolves at its end, rejects on the first failure. */
  forEachChunk?(onChunk: ChunkConsumer): Promise<void>;
}

/** Feeds every chunk of `body` to `onChunk`, through `forEachChunk` when the body has one. */
export async function readByteStream(body: AsyncIterable<Uint8Array>, onChunk: ChunkConsumer): Promise<void> {
  const stream: ByteStream = body;
  if (typeof stream.forEachChunk === 'function') return stream.forEachChunk(onChunk);
  for await (const chunk of body) {
    const waiting = onChunk(chunk);
    if (waiting) await waiting;
  }
}

/**
 * A Node readable as a ByteStream. Errors of the readable itself pass through `mapError` (for
 * iteration and `forEachChunk` alike); errors of the consumer are passed on as they are.
 */
export function byteStreamFromReadable(readable: Readable, mapError: (err: unknown) => unknown): ByteStream {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for await (const chunk of readable) yield chunk as Uint8Array;
      } catch (err) {
        throw mapError(err);
      }
    },
    forEachChunk: (onChunk) => pumpReadable(readable, onChunk, mapError),
  };
}

function pumpReadable(readable: Readable, onChunk: ChunkConsumer, mapError: (err: unknown) => unknown): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    // The consumer's last answer: 'end' may come while it still waits (nothing is left to read).
    let waiting: Promise<void> | undefined;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      readable.off('data', onData);
      readable.off('end', onEnd);
      readable.off('error', onError);
      if (err === undefined) {
        resolve();
        return;
      }
      // Stop the download: nothing will read the rest. A late error of the stream is of no interest.
      readable.on('error', () => {});
      readable.destroy();
      reject(err);
    };
    const onData = (chunk: Uint8Array): void => {
      if (settled) return;
      let answer: void | Promise<void>;
      try {
        answer = onChunk(chunk);
      } catch (err) {
        finish(err);
        return;
      }
      if (!answer) return;
      readable.pause();
      const current: Promise<void> = answer.then(
        () => {
          if (waiting === current) waiting = undefined;
          if (!settled) readable.resume();
        },
        (err: unknown) => finish(err),
      );
      waiting = current;
    };
    const onEnd = (): void => {
      if (waiting) void waiting.then(() => finish());
      else finish();
    };
    const onError = (err: unknown): void => finish(mapError(err));
    readable.on('data', onData);
    readable.once('end', onEnd);
    readable.once('error', onError);
    if (readable.readableEnded) onEnd();
  });
}
