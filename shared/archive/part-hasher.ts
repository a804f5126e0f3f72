/**
 * The evidence hashes of an upload (MD5, verified against upstream, and SHA-256, recorded), computed
 * over the part buffers exactly as they are sent, in order. Hashing what is sent, rather than the
 * chunks as they arrive, leaves no unhashed copy between the bytes verified and the bytes stored.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';

export interface EvidenceHashes {
  md5: Buffer;
  sha256: Buffer;
}

export interface PartHasher {
  /**
   * Adds the next bytes of the object. Resolves once the hasher no longer reads `bytes`, so that
   * their buffer can be reused; rejects if hashing failed.
   */
  update(bytes: Uint8Array): Promise<void>;
  /** The hashes of everything added so far; call once, after the last update has resolved. */
  digest(): Promise<EvidenceHashes>;
}

/** Hashes on the calling thread: each update is done when it returns. */
export class InlinePartHasher implements PartHasher {
  private readonly md5: Hash = createHash('md5');
  private readonly sha256: Hash = createHash('sha256');

  update(bytes: Uint8Array): Promise<void> {
    this.md5.update(bytes);
    this.sha256.update(bytes);
    return Promise.resolve();
  }

  digest(): Promise<EvidenceHashes> {
    return Promise.resolve({ md5: this.md5.digest(), sha256: this.sha256.digest() });
  }
}
