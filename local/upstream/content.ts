/**
 * The bytes the sample upstream serves: a buffer given whole, or deterministic pseudo-random bytes
 * generated on the fly so that a 1 GB file is never held in memory. Also the size and hashes of
 * either, which the server publishes (`md5`, `Content-MD5`) and tests compare against.
 */
import { createCipheriv, createHash } from 'node:crypto';

/** A file's bytes: a buffer, or `size` deterministic pseudo-random bytes derived from `seed`. */
export type SampleContent = Buffer | SeededContent;

/**
 * Bytes produced on the fly (AES-128-CTR keystream keyed by the seed), never held in memory whole;
 * the same `{ size, seed }` always yields the same bytes.
 */
export interface SeededContent {
  size: number;
  seed: number;
}

/** Size and hashes of some content, computed in one pass. */
export interface ContentDigest {
  sizeBytes: number;
  md5Hex: string;
  md5Base64: string;
  sha256Hex: string;
}

const CHUNK_BYTES = 256 * 1024;

export function contentSize(content: SampleContent): number {
  return Buffer.isBuffer(content) ? content.length : content.size;
}

/**
 * Yields the first `limit` bytes of the content (all of it by default) in chunks of at most
 * 256 KiB, generating pseudo-random content as it goes.
 */
export function* readContent(content: SampleContent, limit = contentSize(content)): Generator<Buffer> {
  const end = Math.min(limit, contentSize(content));
  if (Buffer.isBuffer(content)) {
    for (let offset = 0; offset < end; offset += CHUNK_BYTES) {
      yield content.subarray(offset, Math.min(end, offset + CHUNK_BYTES));
    }
    return;
  }
  const key = createHash('sha256').update(`upstream-content:${content.seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK_BYTES);
  for (let offset = 0; offset < end; offset += CHUNK_BYTES) {
    yield cipher.update(zeros.subarray(0, Math.min(CHUNK_BYTES, end - offset)));
  }
}

// A seeded file's digest needs a pass over all its bytes (seconds for 1 GB): do it once per
// process for a given size and seed.
const seededDigests = new Map<string, Promise<ContentDigest>>();

/** Size, MD5 and SHA-256 of the content; cached for seeded content. */
export function digestContent(content: SampleContent): Promise<ContentDigest> {
  if (Buffer.isBuffer(content)) {
    const md5 = createHash('md5').update(content).digest();
    return Promise.resolve(finishDigest(md5, createHash('sha256').update(content).digest('hex'), content.length));
  }
  const key = `${content.size}:${content.seed}`;
  let digest = seededDigests.get(key);
  if (!digest) {
    digest = hashSeededContent(content);
    seededDigests.set(key, digest);
  }
  return digest;
}

async function hashSeededContent(content: SeededContent): Promise<ContentDigest> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let sizeBytes = 0;
  let sinceYield = 0;
  for (const chunk of readContent(content)) {
    md5.update(chunk);
    sha256.update(chunk);
    sizeBytes += chunk.length;
    sinceYield += chunk.length;
    // Let the event loop breathe so a 1 GB pre-pass does not freeze other servers in the process.
    if (sinceYield >= 64 * 1024 * 1024) {
      sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return finishDigest(md5.digest(), sha256.digest('hex'), sizeBytes);
}

function finishDigest(md5: Buffer, sha256Hex: string, sizeBytes: number): ContentDigest {
  return { sizeBytes, md5Hex: md5.toString('hex'), md5Base64: md5.toString('base64'), sha256Hex };
}
