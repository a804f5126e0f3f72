// Over 400 lines: one resumable run (scope, stream, checkpoint, finish) whose steps share the run's
// state; the custody evidence is gathered in custody.ts.
/**
 * One run of an export job: the files in scope, each streamed from its archived S3 version through
 * the ZIP writer into a multipart upload of the bag, hashed as it streams and compared with its
 * record; then the tag files (manifests, bag-info, load files, chain of custody) and the ZIP's
 * central directory. Memory stays flat in the bytes exported: one file's bytes are never held whole,
 * only the parts in flight (`concurrency` + 1 part buffers).
 *
 * Pipelined: while one file streams, the records and custody evidence of the next LOOKAHEAD_FILES are
 * read, the next file's GetObject is already answered, and up to `concurrency` parts upload. Each
 * payload byte is hashed once per digest: MD5 and SHA-256 (checked against the record), one CRC-32
 * that serves the record check, the ZIP entry and (combined, not recomputed) the part and the bag's
 * FULL_OBJECT checksum, and the bag's SHA-256 (the one the download API hands out).
 *
 * Resumable: at the first file boundary after every `checkpointEverySeconds` (and at the run's
 * deadline) the run writes a checkpoint segment to the exports bucket: what the ZIP holds so far, the
 * parts uploaded, the files done, and the bytes of the unfinished part (as a small object, unless at
 * least MIN_PART_BYTES waited and a part was cut there). Checkpoints wait for the parts in flight, so
 * they are kept rare: a failed run loses at most that much work. A run that fails or reaches its deadline is
 * followed by another (the queue redelivers, or the worker queues a continuation) that reads the
 * segments back and goes on from the file after the last checkpoint.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Hash } from 'node:crypto';
import * as z from '../contracts/zod.js';
import { combineCrc32, crc32, crc32ToBase64 } from '../archive/crc32.js';
import { IntegrityMeter } from '../archive/integrity.js';
import type { ArchivedRecord, FileRecord } from '../contracts/file-records.js';
import type { HoldScope } from '../contracts/holds.js';
import { exportObjectKeys } from '../contracts/exports.js';
import type { ExportCounts, ExportJob } from '../contracts/exports.js';
import { describeError } from '../platform/errors.js';
import type { Log } from '../platform/telemetry.js';
import { BAGIT_TXT, bagInfoTxt, custodyHtml, loadFileCsv, loadFileDat, manifest, payloadPath } from './bag-files.js';
import type { BagInfo, ExportedFile } from './bag-files.js';
import { CUSTODY_SOURCES, createEvidenceGatherer, custodyReport } from './custody.js';
import type { CustodyEvidence } from './custody.js';
import type {
  CustodySources,
  ExportJobStore,
  ExportStorage,
  MatterLookup,
  ScopeReader,
  UploadedPart,
} from './ports.js';
import { candidateReads } from './candidate-reads.js';
import { selects } from './scope.js';
import type { ExportSelection } from './scope.js';
import { emptyZipState, ZipWriter } from './zip-writer.js';
import type { ZipEntryRecord, ZipState } from './zip-writer.js';

/** S3's smallest part but the last (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;

/** S3's largest part (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html): 5 GiB; we stop far below. */
const MAX_GROWN_PART_BYTES = 64 * 1024 * 1024;
/** Parts of one size before the size doubles (S3: 10,000 parts, any sizes ≥ 5 MiB but the last). */
const PARTS_PER_SIZE = 1000;

/**
 * The size of part `partNumber` (1-based): `partBytes` for the first 1,000 parts, then doubling every
 * 1,000 parts up to 64 MiB. Small parts keep a typical bag's memory small (the buffers in flight);
 * growing ones keep a large bag within S3's 10,000 parts (8 MiB parts: about 490 GiB in all, where
 * fixed 8 MiB parts would stop at 78 GiB).
 */
export function partSizeFor(partNumber: number, partBytes: number): number {
  const doublings = Math.floor((partNumber - 1) / PARTS_PER_SIZE);
  return Math.max(partBytes, Math.min(MAX_GROWN_PART_BYTES, partBytes * 2 ** Math.min(doublings, 16)));
}

export interface ExportSettings {
  /** Part size of the bag's multipart upload (≥ 5 MiB) for its first 1,000 parts (see partSizeFor). */
  partBytes: number;
  /** Parts uploading at once. */
  concurrency: number;
  /** The organization named in bag-info.txt `Source-Organization`. */
  sourceOrganization: string;
  /** Longest time between checkpoints while files are being written. */
  checkpointEverySeconds: number;
}

export interface ExportDeps {
  jobs: ExportJobStore;
  scope: ScopeReader;
  /** The legal-hold matters, for an export by matter id. */
  matters: MatterLookup;
  storage: ExportStorage;
  custody: CustodySources;
  log: Log;
  now?: () => Date;
}

export type RunOutcome =
  | { kind: 'completed'; job: ExportJob }
  /** The deadline came first; a checkpoint is written and another run continues. */
  | { kind: 'continue' }
  /** Nothing to do (no such job, or already finished). */
  | { kind: 'skipped'; reason: string }
  /** A final failure (recorded on the job): retrying cannot help. */
  | { kind: 'failed'; error: string };

/** A failure that another run cannot cure; recorded on the job. */
export class ExportFailedError extends Error {}

const NotArchivedSchema = z.object({ fileId: z.string(), status: z.string() });
type NotArchived = z.infer<typeof NotArchivedSchema>;

/** One checkpoint segment: what changed since the previous one, and the totals so far. */
const SegmentSchema = z.object({
  seq: z.int().check(z.nonnegative()),
  uploadId: z.string(),
  baggingDate: z.string(),
  nextIndex: z.int().check(z.nonnegative()),
  partNumber: z.int().check(z.nonnegative()),
  crc: z.int().check(z.nonnegative()),
  zip: z.object({ offset: z.number(), dosTime: z.number(), dosDate: z.number() }),
  tailKey: z.nullable(z.string()),
  newEntries: z.array(
    z.object({ name: z.string(), crc32: z.number(), size: z.number(), offset: z.number(), zip64: z.boolean() }),
  ),
  newParts: z.array(z.object({ partNumber: z.number(), etag: z.string(), crc32Base64: z.string() })),
  newExported: z.array(z.custom<ExportedFile & { custodySha256: string }>((v) => typeof v === 'object' && v !== null)),
  newNotArchived: z.array(NotArchivedSchema),
});
type Segment = z.infer<typeof SegmentSchema>;

/** The files an export takes, fixed by its first run (and the matter they came from). */
const FilesSchema = z.object({
  fileIds: z.array(z.string()),
  matter: z.optional(
    z.object({
      matterId: z.string(),
      scope: z.custom<HoldScope>((v) => typeof v === 'object' && v !== null),
    }),
  ),
});

type Done = ExportedFile & { custodySha256: string };

/**
 * Files whose record and custody evidence are read ahead of the one streaming. Small reads (a record,
 * a few ledger items), so memory stays flat; enough that the per-file round trips of a run of small
 * files are not on the stream's critical path.
 */
const LOOKAHEAD_FILES = 8;

interface Prefetched {
  record: FileRecord | undefined;
  evidence?: Promise<CustodyEvidence>;
  error?: unknown;
}

/** The next file's GetObject, sent while the current file streams; its body is read when its turn comes. */
interface BodyAhead {
  index: number;
  body: Promise<AsyncIterable<Uint8Array> | undefined>;
}

/** Runs (or resumes) the export until it completes or `deadlineMs` (epoch ms) comes. */
export async function runExport(
  exportId: string,
  deps: ExportDeps,
  settings: ExportSettings,
  deadlineMs: number,
  signal: AbortSignal,
): Promise<RunOutcome> {
  const now = deps.now ?? (() => new Date());
  const job = await deps.jobs.get(exportId);
  if (!job) return { kind: 'skipped', reason: 'no such export' };
  if (job.status === 'completed' || job.status === 'failed') return { kind: 'skipped', reason: `export ${job.status}` };
  const owner = randomUUID();
  // The lease outlives the run by a minute, so a run that dies leaves the job to the next delivery soon after.
  const leaseUntil = Math.max(deadlineMs, Date.now()) + 60_000;
  if (!(await deps.jobs.claim(exportId, owner, Date.now(), leaseUntil))) {
    return { kind: 'skipped', reason: 'another run holds the export' };
  }
  try {
    await deps.jobs.update(exportId, { status: 'running', runs: job.runs + 1, updatedAt: now().toISOString() });
    return await new ExportRun(job, deps, settings, deadlineMs, signal, now).run();
  } catch (err) {
    if (err instanceof ExportFailedError) {
      await deps.jobs.update(exportId, { status: 'failed', error: err.message, updatedAt: now().toISOString() });
      deps.log.error('export failed', { exportId, error: err.message });
      return { kind: 'failed', error: err.message };
    }
    throw err;
  } finally {
    await deps.jobs.release(exportId, owner);
  }
}

class ExportRun {
  private readonly keys;
  private fileIds: string[] = [];
  private uploadId = '';
  private baggingDate = '';
  private nextIndex = 0;
  private partNumber = 0;
  private crc = 0;
  private seq = 0;
  private readonly parts: UploadedPart[] = [];
  private readonly exported: Done[] = [];
  private readonly notArchived: NotArchived[] = [];
  /** Since the last checkpoint. */
  private mark = { entries: 0, parts: 0, exported: 0, notArchived: 0 };
  private lastCheckpointMs = Date.now();
  private zip!: ZipWriter;
  /** The part being filled. */
  private part: Buffer;
  private partFill = 0;
  /** CRC-32 of the part's bytes so far (combined from the chunks' CRCs as they are copied in). */
  private partCrc = 0;
  private readonly free: Buffer[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;
  /** SHA-256 of the whole bag, when this run writes it from its first byte. */
  private bagHash: Hash | undefined;
  private matchedCount = 0;
  private readonly gather: (record: ArchivedRecord) => Promise<CustodyEvidence>;
  /** The matter the export takes its files from (bag-info names it and its scope). */
  private matterScope: ExportSelection['matter'] | null = null;

  constructor(
    private readonly job: ExportJob,
    private readonly deps: ExportDeps,
    private readonly settings: ExportSettings,
    private readonly deadlineMs: number,
    private readonly signal: AbortSignal,
    private readonly now: () => Date,
  ) {
    this.keys = exportObjectKeys(job.exportId);
    this.part = Buffer.allocUnsafe(partSizeFor(1, settings.partBytes));
    this.gather = createEvidenceGatherer(deps.custody);
  }

  async run(): Promise<RunOutcome> {
    const resumed = await this.restore();
    if (!resumed) await this.start();
    // Records and custody evidence of the next files, and the next file's GetObject, while this one streams.
    const ahead = new Map<number, Promise<Prefetched>>();
    let bodyAhead: BodyAhead | undefined;
    try {
      for (; this.nextIndex < this.fileIds.length; ) {
        const index = this.nextIndex;
        const end = Math.min(this.fileIds.length, index + 1 + LOOKAHEAD_FILES);
        for (let i = index; i < end; i++) if (!ahead.has(i)) ahead.set(i, this.prefetch(i));
        const current = (await ahead.get(index)) as Prefetched;
        ahead.delete(index);
        const body = bodyAhead?.index === index ? bodyAhead.body : undefined;
        bodyAhead = this.openAhead(index + 1, ahead.get(index + 1));
        await this.exportFile(this.fileIds[index] as string, current, body);
        this.nextIndex += 1;
        const due = Date.now() - this.lastCheckpointMs >= this.settings.checkpointEverySeconds * 1000;
        if (due || Date.now() >= this.deadlineMs) {
          // A part cut here when S3 allows one of this size; otherwise the unfinished part goes with the checkpoint.
          if (this.partFill >= MIN_PART_BYTES) this.cutPart();
          await this.checkpoint(true);
        }
        if (Date.now() >= this.deadlineMs && this.nextIndex < this.fileIds.length) {
          this.deps.log.info('export continues in another run', { exportId: this.job.exportId, next: this.nextIndex });
          return { kind: 'continue' };
        }
      }
    } finally {
      // A GetObject sent ahead and not read (the run stops or fails): its connection is released.
      if (bodyAhead && bodyAhead.index >= this.nextIndex) discard(bodyAhead.body);
    }
    return this.finish();
  }

  /** Sends the GetObject of file `index` once its record says it is archived; settles without throwing. */
  private openAhead(index: number, prefetched: Promise<Prefetched> | undefined): BodyAhead | undefined {
    if (!prefetched) return undefined;
    const body = prefetched.then((p) =>
      p.record?.status === 'archived' && p.evidence ? this.deps.storage.readArchived(p.record, this.signal) : undefined,
    );
    body.catch(() => {});
    return { index, body };
  }

  /** The first run: resolve the selection once (a resumed run must see the same files), start the upload. */
  private async start(): Promise<void> {
    const selection = await this.selectionOf();
    this.matterScope = selection.matter ?? null;
    const reads = candidateReads(selection, this.now().toISOString());
    const ids: string[] = [];
    for await (const record of this.deps.scope.candidates(reads)) {
      if (selects(record, selection)) ids.push(record.fileId);
    }
    // Named files keep the order named; any other selection is in file id order, however it was read.
    this.fileIds = [...new Set(ids)];
    if (reads.order === 'fileId') this.fileIds.sort(); // UTF-16 code unit order
    await this.deps.storage.putJson(this.keys.files, { fileIds: this.fileIds, ...selection });
    this.uploadId = await this.deps.storage.startUpload(this.keys.bag);
    this.baggingDate = this.now().toISOString();
    this.zip = new ZipWriter(emptyZipState(new Date(this.baggingDate)), (b, crc) => this.write(b, crc));
    this.bagHash = createHash('sha256');
    this.matchedCount = this.fileIds.length;
    await this.deps.jobs.update(this.job.exportId, { counts: this.counts(), updatedAt: this.now().toISOString() });
  }

  /**
   * The job's selection: a matter's files (its hold scope under the hold rules, as recorded on the
   * matter, placed or released), narrowed by the job's scope when it has one too.
   */
  private async selectionOf(): Promise<ExportSelection> {
    const scope = this.job.scope ?? undefined;
    if (!this.job.matterId) {
      if (!scope) throw new ExportFailedError('the export names neither a scope nor a matter');
      return { scope };
    }
    const matter = await this.deps.matters(this.job.matterId);
    if (!matter) throw new ExportFailedError(`no legal hold names matter ${this.job.matterId}`);
    return { matter: { matterId: matter.matterId, scope: matter.scope }, ...(scope ? { scope } : {}) };
  }

  /** Reads the checkpoint segments back; false when there are none (a first run). */
  private async restore(): Promise<boolean> {
    const keys = await this.deps.storage.list(this.keys.checkpointPrefix);
    const segmentKeys = keys.filter((k) => k.endsWith('.json'));
    if (segmentKeys.length === 0) return false;
    const files = FilesSchema.parse(await this.deps.storage.getJson(this.keys.files));
    this.fileIds = files.fileIds;
    this.matterScope = files.matter ?? null;
    this.matchedCount = this.fileIds.length;
    const entries: ZipEntryRecord[] = [];
    let last: Segment | undefined;
    for (const key of segmentKeys) {
      const segment = SegmentSchema.parse(await this.deps.storage.getJson(key));
      entries.push(...segment.newEntries);
      this.parts.push(...segment.newParts);
      this.exported.push(...segment.newExported);
      this.notArchived.push(...segment.newNotArchived);
      last = segment;
    }
    if (!last) return false;
    this.seq = last.seq + 1;
    this.uploadId = last.uploadId;
    this.baggingDate = last.baggingDate;
    this.nextIndex = last.nextIndex;
    this.partNumber = last.partNumber;
    this.crc = last.crc;
    const state: ZipState = { ...last.zip, entries };
    this.zip = new ZipWriter(state, (b, crc) => this.write(b, crc));
    // The part being filled is number partNumber + 1: its size follows from its number.
    this.part = this.partBuffer(this.partNumber + 1);
    if (last.tailKey) {
      const tail = await this.deps.storage.getBytes(last.tailKey);
      // A run configured with smaller parts than the one that checkpointed: this one part is as large as its tail.
      if (tail.byteLength >= this.part.byteLength)
        this.part = Buffer.allocUnsafe(tail.byteLength + this.part.byteLength);
      Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength).copy(this.part, 0);
      this.partFill = tail.byteLength;
      this.partCrc = crc32(tail);
    }
    this.mark = {
      entries: entries.length,
      parts: this.parts.length,
      exported: this.exported.length,
      notArchived: this.notArchived.length,
    };
    // The bag's first bytes were written by an earlier run: its SHA-256 is read back at the end.
    this.bagHash = undefined;
    this.deps.log.info('export resumes from its checkpoint', {
      exportId: this.job.exportId,
      next: this.nextIndex,
      of: this.fileIds.length,
    });
    return true;
  }

  /** Reads a file's record and starts reading its custody evidence; settles without throwing. */
  private prefetch(index: number): Promise<Prefetched> {
    const fileId = this.fileIds[index];
    if (fileId === undefined) return Promise.resolve({ record: undefined });
    return this.deps.scope.get(fileId).then(
      (record): Prefetched => {
        if (record?.status !== 'archived') return { record };
        const evidence = this.gather(record);
        evidence.catch(() => {});
        return { record, evidence };
      },
      (error: unknown): Prefetched => ({ record: undefined, error }),
    );
  }

  private async exportFile(
    fileId: string,
    prefetched: Prefetched,
    bodyAhead: Promise<AsyncIterable<Uint8Array> | undefined> | undefined,
  ): Promise<void> {
    if (prefetched.error !== undefined) throw prefetched.error;
    const { record, evidence } = prefetched;
    if (record?.status !== 'archived' || !evidence) {
      this.notArchived.push({ fileId, status: record?.status ?? 'not_found' });
      return;
    }
    const bagPath = payloadPath(record.fileId, record.filename);
    // The GetObject sent ahead, or (none was, or it failed: S3 may have dropped an idle connection) one now.
    const body =
      (await bodyAhead?.catch(() => undefined)) ?? (await this.deps.storage.readArchived(record, this.signal));
    const meter = new IntegrityMeter();
    const entry = await this.zip.begin(`${this.root}/${bagPath}`, record.sizeBytes).catch((err: unknown) => {
      discard(Promise.resolve(body)); // a part's upload failed: the run stops, the connection is released
      throw err;
    });
    let written = 0;
    for await (const chunk of body) {
      written += chunk.byteLength;
      if (written > record.sizeBytes) {
        throw new ExportFailedError(
          `file ${fileId}: the archived object is larger than its record's ${record.sizeBytes} bytes`,
        );
      }
      // One CRC-32 pass: the record check, the ZIP entry and the part's checksum all take this one.
      const chunkCrc = crc32(chunk);
      meter.update(chunk, chunkCrc);
      await entry.write(chunk, chunkCrc);
    }
    const digests = meter.digest();
    if (digests.bytes !== record.sizeBytes || digests.md5Hex !== record.md5 || digests.sha256Hex !== record.sha256) {
      // An auditor must never receive a bag holding bytes that differ from the record: stop, say which.
      throw new ExportFailedError(
        `file ${fileId}: the archived version's bytes no longer match its record ` +
          `(size ${digests.bytes}/${record.sizeBytes}, sha256 ${digests.sha256Hex}/${record.sha256})`,
      );
    }
    await entry.end();
    const custodyPath = `custody/${record.fileId}.json`;
    const report = custodyReport(record, await evidence, {
      exportId: this.job.exportId,
      bagPath,
      exportedAt: this.now().toISOString(),
      digests,
    });
    const custodyBytes = Buffer.from(`${JSON.stringify(report, null, 2)}\n`, 'utf8');
    await this.zip.add(`${this.root}/${custodyPath}`, custodyBytes);
    this.exported.push({
      fileId: record.fileId,
      bagPath,
      custodyPath,
      chatIds: record.chatIds,
      projectId: record.projectId ?? null,
      creator: record.creator ? (record.creator.emailAddress ?? record.creator.id) : null,
      createdAt: record.createdAt,
      filename: record.filename,
      mimeType: record.mimeType,
      sizeBytes: record.sizeBytes,
      md5: digests.md5Hex,
      sha256: digests.sha256Hex,
      versionId: record.versionId,
      archivedAt: record.archivedAt,
      upstreamDeletions: (await evidence).upstreamDeletions.length,
      custodySha256: createHash('sha256').update(custodyBytes).digest('hex'),
    });
  }

  /** The bag's base directory inside the ZIP (RFC 8493 §2: a bag is a directory). */
  private get root(): string {
    return this.job.exportId;
  }

  private async finish(): Promise<RunOutcome> {
    const files = this.exported;
    const info: BagInfo = {
      sourceOrganization: this.settings.sourceOrganization,
      baggingDate: this.baggingDate,
      payloadBytes: files.reduce((n, f) => n + f.sizeBytes, 0),
      payloadFiles: files.length,
      exportId: this.job.exportId,
      matterId: this.job.matterId,
      matterScope: this.matterScope?.scope ?? null,
      scope: this.job.scope,
      description: this.job.description,
    };
    const tagFiles: [string, string][] = [
      ['bagit.txt', BAGIT_TXT],
      ['bag-info.txt', bagInfoTxt(info)],
      ['manifest-sha256.txt', manifest(files.map((f) => ({ path: f.bagPath, digest: f.sha256 })))],
      ['manifest-md5.txt', manifest(files.map((f) => ({ path: f.bagPath, digest: f.md5 })))],
      ['loadfile/export.csv', loadFileCsv(files)],
      ['loadfile/export.dat', loadFileDat(files)],
      ['custody/index.html', custodyHtml(info, files, this.notArchived, CUSTODY_SOURCES)],
    ];
    const tagDigests: { path: string; digest: string }[] = [];
    for (const [path, text] of tagFiles) {
      const bytes = Buffer.from(text, 'utf8');
      await this.zip.add(`${this.root}/${path}`, bytes);
      tagDigests.push({ path, digest: createHash('sha256').update(bytes).digest('hex') });
    }
    // RFC 8493 §2.2.1: the tag manifest lists every tag file (the per-file custody reports too), not itself.
    for (const f of files) tagDigests.push({ path: f.custodyPath, digest: f.custodySha256 });
    await this.zip.add(`${this.root}/tagmanifest-sha256.txt`, Buffer.from(manifest(tagDigests), 'utf8'));
    await this.zip.finish();
    this.cutPart();
    await this.drain();
    const size = this.zip.offset;
    await this.deps.storage.completeUpload(this.keys.bag, this.uploadId, this.parts, crc32ToBase64(this.crc), size);
    const sha256 = this.bagHash ? this.bagHash.digest('hex') : await this.readBackSha256();
    const at = this.now().toISOString();
    const bag = { bucket: this.deps.storage.bucket, key: this.keys.bag, bytes: size, sha256, completedAt: at };
    const counts = this.counts();
    await this.deps.jobs.update(this.job.exportId, { status: 'completed', bag, counts, error: null, updatedAt: at });
    this.deps.log.info('export completed', { exportId: this.job.exportId, ...counts, bagBytes: size });
    return { kind: 'completed', job: { ...this.job, status: 'completed', bag, counts, updatedAt: at } };
  }

  private async readBackSha256(): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of await this.deps.storage.readObject(this.keys.bag, this.signal)) hash.update(chunk);
    return hash.digest('hex');
  }

  private counts(): ExportCounts {
    return {
      matched: this.matchedCount,
      exported: this.exported.length,
      notArchived: this.notArchived.length,
      payloadBytes: this.exported.reduce((n, f) => n + f.sizeBytes, 0),
    };
  }

  /** Writes what changed since the last checkpoint; `withTail` keeps the unfinished part's bytes too. */
  private async checkpoint(withTail: boolean): Promise<void> {
    await this.drain();
    let tailKey: string | null = null;
    if (withTail && this.partFill > 0) {
      tailKey = this.keys.checkpoint(this.seq).replace(/\.json$/, '.tail');
      await this.deps.storage.putBytes(tailKey, this.part.subarray(0, this.partFill));
    }
    const state = this.zip.snapshot();
    const segment: Segment = {
      seq: this.seq,
      uploadId: this.uploadId,
      baggingDate: this.baggingDate,
      nextIndex: this.nextIndex,
      partNumber: this.partNumber,
      crc: this.crc,
      zip: { offset: state.offset, dosTime: state.dosTime, dosDate: state.dosDate },
      tailKey,
      newEntries: state.entries.slice(this.mark.entries),
      newParts: this.parts.slice(this.mark.parts),
      newExported: this.exported.slice(this.mark.exported),
      newNotArchived: this.notArchived.slice(this.mark.notArchived),
    };
    await this.deps.storage.putJson(this.keys.checkpoint(this.seq), segment);
    this.seq += 1;
    this.mark = {
      entries: state.entries.length,
      parts: this.parts.length,
      exported: this.exported.length,
      notArchived: this.notArchived.length,
    };
    this.lastCheckpointMs = Date.now();
    await this.deps.jobs.update(this.job.exportId, { counts: this.counts(), updatedAt: this.now().toISOString() });
  }

  /** The ZIP writer's output: copied into part buffers, each sent when full. `crc`: of `bytes`, when known. */
  private async write(bytes: Uint8Array, crc?: number): Promise<void> {
    this.bagHash?.update(bytes);
    let at = 0;
    while (at < bytes.byteLength) {
      const n = Math.min(bytes.byteLength - at, this.part.byteLength - this.partFill);
      const piece = n === bytes.byteLength ? bytes : bytes.subarray(at, at + n);
      this.part.set(piece, this.partFill);
      // The chunk's CRC when it fits whole; a chunk split across two parts is read again (once per part).
      const pieceCrc = piece === bytes && crc !== undefined ? crc : crc32(piece);
      this.partCrc = combineCrc32(this.partCrc, pieceCrc, n);
      this.partFill += n;
      at += n;
      if (this.partFill === this.part.byteLength) {
        this.cutPart();
        while (this.inFlight.size >= this.settings.concurrency) await Promise.race(this.inFlight);
        this.rethrow();
      }
    }
  }

  /** A buffer for part `partNumber`: a free one of its size, or a new one (the free ones of a smaller size go). */
  private partBuffer(partNumber: number): Buffer {
    const size = partSizeFor(partNumber, this.settings.partBytes);
    for (let b = this.free.pop(); b !== undefined; b = this.free.pop()) if (b.byteLength === size) return b;
    return Buffer.allocUnsafe(size);
  }

  /** Sends the part filled so far (any size: the caller cuts early only at ≥ 5 MiB, or at the end). */
  private cutPart(): void {
    if (this.partFill === 0) return;
    const bytes = this.part.subarray(0, this.partFill);
    const buffer = this.part;
    const partCrc = this.partCrc;
    this.part = this.partBuffer(this.partNumber + 2);
    this.partFill = 0;
    this.partCrc = 0;
    this.partNumber += 1;
    const partNumber = this.partNumber;
    this.crc = partNumber === 1 ? partCrc : combineCrc32(this.crc, partCrc, bytes.byteLength);
    const crc32Base64 = crc32ToBase64(partCrc);
    const sent = this.deps.storage
      .uploadPart(this.keys.bag, this.uploadId, partNumber, bytes, this.signal, crc32Base64)
      .then((etag) => {
        this.parts.push({ partNumber, etag, crc32Base64 });
      });
    const tracked: Promise<void> = sent.then(
      () => {
        this.inFlight.delete(tracked);
        this.free.push(buffer);
      },
      (error: unknown) => {
        this.failure ??= { error };
        this.inFlight.delete(tracked);
      },
    );
    this.inFlight.add(tracked);
  }

  private async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    this.rethrow();
    this.parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  private rethrow(): void {
    if (this.failure) {
      const { error } = this.failure;
      throw new Error(`uploading the bag failed: ${describeError(error)}`, { cause: error });
    }
  }
}

/** Releases a GetObject that will not be read: ending its body's iteration destroys the stream. */
function discard(body: Promise<AsyncIterable<Uint8Array> | undefined>): void {
  body
    .then(
      (b) => b?.[Symbol.asyncIterator]().return?.(),
      () => {},
    )
    .catch(() => {});
}

export type { FileRecord };
