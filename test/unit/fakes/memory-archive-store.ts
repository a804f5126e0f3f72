import { judgeReadBack } from '../../../shared/archive/archive-store.js';
import type {
  ArchivedObjectRef,
  ArchiveObject,
  ArchiveStore,
  DownloadSigner,
  ReadBack,
  StoredObject,
} from '../../../shared/archive/archive-store.js';
import { IntegrityMeter, verifyIntegrity } from '../../../shared/archive/integrity.js';
import type { ExpectedIntegrity } from '../../../shared/archive/integrity.js';

export interface MemoryObjectVersion extends ArchiveObject {
  versionId: string;
  bytes: Buffer;
}

/** The archive bucket in memory, versioned: each commit at a key adds a version. */
export class MemoryArchiveStore implements ArchiveStore, DownloadSigner {
  readonly bucket = 'memory-archive';
  readonly versions = new Map<string, MemoryObjectVersion[]>();
  readonly presigned: { ref: ArchivedObjectRef; ttlSeconds: number }[] = [];
  /** Calls of readBackVerified: each is an S3 request (or two) in the real store. */
  readBacks = 0;
  /** Thrown by the next write instead of storing (an S3 failure, say). */
  failNextWrite: unknown;
  private nextVersion = 1;

  /** Puts an object as a delivery that died before indexing would have left it (its claim is the test's to make). */
  leaveBehind(key: string, bytes: Buffer): void {
    this.commit(
      { key, contentType: 'application/octet-stream', contentDisposition: 'attachment', metadata: {} },
      bytes,
    );
  }

  commits(key: string): number {
    return this.versions.get(key)?.length ?? 0;
  }

  latest(key: string): MemoryObjectVersion | undefined {
    return this.versions.get(key)?.at(-1);
  }

  async writeVerified(
    body: AsyncIterable<Uint8Array>,
    object: ArchiveObject,
    expected: ExpectedIntegrity,
    signal: AbortSignal,
  ): Promise<StoredObject> {
    if (this.failNextWrite !== undefined) {
      const err = this.failNextWrite;
      this.failNextWrite = undefined;
      throw err;
    }
    const meter = new IntegrityMeter();
    const chunks: Buffer[] = [];
    for await (const chunk of body) {
      signal.throwIfAborted();
      meter.update(chunk);
      chunks.push(Buffer.from(chunk));
    }
    const digests = meter.digest();
    verifyIntegrity(expected, digests);
    const version = this.commit(object, Buffer.concat(chunks));
    return { versionId: version.versionId, etag: `"${digests.md5Hex}"`, digests, parts: 0 };
  }

  async readBackVerified(key: string, expected: ExpectedIntegrity): Promise<ReadBack> {
    this.readBacks += 1;
    const latest = this.latest(key);
    if (!latest) return { kind: 'absent' };
    const meter = new IntegrityMeter();
    meter.update(latest.bytes);
    return judgeReadBack(expected, meter.digest(), { versionId: latest.versionId, etag: undefined });
  }

  async presignDownload(ref: ArchivedObjectRef, ttlSeconds: number): Promise<string> {
    this.presigned.push({ ref, ttlSeconds });
    return `memory://${ref.bucket}/${ref.key}?versionId=${ref.versionId ?? ''}&ttl=${ttlSeconds}`;
  }

  private commit(object: ArchiveObject, bytes: Buffer): MemoryObjectVersion {
    const version = { ...object, versionId: `v${this.nextVersion++}`, bytes };
    this.versions.set(object.key, [...(this.versions.get(object.key) ?? []), version]);
    return version;
  }
}
