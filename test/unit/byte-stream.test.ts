import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { byteStreamFromReadable, readByteStream } from '../../shared/platform/byte-stream.js';

const chunks = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from([i]));
const mapped = (err: unknown) => new Error(`mapped: ${err instanceof Error ? err.message : String(err)}`);

describe('byte streams read with data events', () => {
  it('feeds every chunk in order, pausing the readable while the consumer waits', async () => {
    const source = Readable.from(chunks(20), { objectMode: false });
    const seen: number[] = [];
    let waiting = false;
    await readByteStream(byteStreamFromReadable(source, mapped), (chunk) => {
      expect(waiting).toBe(false);
      seen.push(chunk[0] ?? -1);
      if (seen.length % 5 !== 0) return undefined;
      waiting = true;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          waiting = false;
          resolve();
        }, 5),
      );
    });
    expect(seen).toEqual([...Array(20).keys()]);
  });

  it('resolves only after the consumer finished with the last chunk', async () => {
    let finished = false;
    await readByteStream(
      byteStreamFromReadable(Readable.from([Buffer.from('last')]), mapped),
      () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            finished = true;
            resolve();
          }, 20),
        ),
    );
    expect(finished).toBe(true);
  });

  it(
    "passes the readable's own error through the mapper, and the " +
      "consumer's error as it is, destroying the readable",
    async () => {
      const broken = new Readable({ read() {} });
      broken.push(Buffer.from('a'));
      setTimeout(() => broken.destroy(new Error('socket hang up')), 5);
      await expect(readByteStream(byteStreamFromReadable(broken, mapped), () => undefined)).rejects.toThrow(
        'mapped: socket hang up',
      );

      const healthy = new Readable({ read() {} });
      healthy.push(Buffer.from('too long'));
      const refusal = new Error('more than published');
      await expect(
        readByteStream(byteStreamFromReadable(healthy, mapped), () => {
          throw refusal;
        }),
      ).rejects.toBe(refusal);
      expect(healthy.destroyed).toBe(true);
    },
  );

  it('reads any async iterable without forEachChunk by iterating it', async () => {
    async function* plain() {
      yield Buffer.from('x');
      yield Buffer.from('y');
    }
    const seen: string[] = [];
    await readByteStream(plain(), (c) => {
      seen.push(Buffer.from(c).toString());
    });
    expect(seen).toEqual(['x', 'y']);
  });
});
