/**
 * The evidence hashes of an upload (MD5, verified against upstream, and SHA-256, recorded), computed
 * over the part buffers exactly as they are sent, in order. Hashing what is sent, rather than the
 * chunks as they arrive, leaves no unhashed copy between the bytes verified and the bytes stored.
 *
 * Hashing runs on the event loop. A worker thread was measured (bench, 1 GB, 2 busy cores): 0.7-2.2
 * CPU s per GB more, about 35 MB more RSS, and no faster; it could only pay where spare cores exist.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';

export interface EvidenceHashes {
  md5: Buffer;
  sha256: Buffer;
}

export class PartHasher {
  private readonly md5: Hash = createHash('md5');
  private readonly sha256: Hash = createHash('sha256');

  /** Adds the next bytes of the object. */
  update(bytes: Uint8Array): void {
    this.md5.update(bytes);
    this.sha256.update(bytes);
  }

  /** The hashes of everything added; call once. */
  digest(): EvidenceHashes {
    return { md5: this.md5.digest(), sha256: this.sha256.digest() };
  }
}
