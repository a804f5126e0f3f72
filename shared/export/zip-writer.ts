/**
 * A streaming ZIP writer (PKWARE APPNOTE 6.3.10), store method only, ZIP64 where sizes or offsets
 * need it, whose whole state is a small serialisable value (ZipState) so that an export that stops
 * part-way resumes in another process from its last checkpoint.
 *
 * Why not a package: `archiver`/`zip-stream`, `yazl`, `client-zip` and `@zip.js/zip.js` all stream,
 * but keep their entry list and offset private and always start at byte 0; none can continue a ZIP
 * whose first entries another process wrote (the export's resume, see export-run.ts). Store-only
 * keeps it small: the bytes of a payload entry are the archived object's bytes, so the hashes
 * computed as they stream are the payload hashes, and nothing is spent on compressing (most
 * archived files are already compressed: PDFs, images, Office documents).
 *
 * Layout of each entry: local header (general purpose flag bit 3: CRC and sizes follow the data in a
 * data descriptor; bit 11: the name is UTF-8), the data, the data descriptor (8-byte sizes when the
 * local header carries a ZIP64 extra field, APPNOTE 4.3.9.2). The central directory at the end
 * repeats each entry with its CRC, sizes and offset (ZIP64 extra field where one exceeds 32 bits),
 * then a ZIP64 end record and locator when a count, size or offset needs them, then the end record.
 */
import { combineCrc32, crc32 } from '../archive/crc32.js';

const U32_MAX = 0xffff_ffff;
const U16_MAX = 0xffff;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const VERSION_ZIP64 = 45;
const VERSION_DEFAULT = 20;
/** Made by: UNIX (3) so that the external attributes carry a file mode (0644). */
const MADE_BY = (3 << 8) | VERSION_ZIP64;
const EXTERNAL_ATTRS = (0o100644 << 16) >>> 0;

/** One entry as the central directory records it. */
export interface ZipEntryRecord {
  name: string;
  crc32: number;
  size: number;
  offset: number;
  /** Whether the local header carries a ZIP64 extra field (so its descriptor has 8-byte sizes). */
  zip64: boolean;
}

/** Everything the writer needs to continue a ZIP: where the next byte goes and what came before. */
export interface ZipState {
  offset: number;
  entries: ZipEntryRecord[];
  /** MS-DOS time and date of every entry (the bag's creation time). */
  dosTime: number;
  dosDate: number;
}

/**
 * Where the ZIP's bytes go, in order. `crc` is the CRC-32 of `bytes` when the writer has it (an entry's
 * data): the output can combine it into its own checksums instead of reading the bytes again.
 */
export type ZipOutput = (bytes: Uint8Array, crc?: number) => Promise<void>;

/** The state of a ZIP with no entries yet, its entries dated `at`. */
export function emptyZipState(at: Date): ZipState {
  const { time, date } = dosDateTime(at);
  return { offset: 0, entries: [], dosTime: time, dosDate: date };
}

/** An entry being written: its bytes go through `write`, then `end` closes it. */
export interface ZipEntryWriter {
  /** `crc`: the CRC-32 of `bytes` when the caller has computed it (the entry's CRC is combined from it). */
  write(bytes: Uint8Array, crc?: number): Promise<void>;
  /** Writes the data descriptor; throws when fewer or more bytes came than announced. */
  end(): Promise<ZipEntryRecord>;
}

export class ZipWriter {
  private readonly state: ZipState;
  private open = false;

  constructor(
    state: ZipState,
    private readonly output: ZipOutput,
  ) {
    this.state = { ...state, entries: [...state.entries] };
  }

  /** A copy of the state after the last finished entry (what a checkpoint keeps). */
  snapshot(): ZipState {
    if (this.open) throw new Error('an entry is still open');
    return { ...this.state, entries: [...this.state.entries] };
  }

  get offset(): number {
    return this.state.offset;
  }

  /** Starts an entry of exactly `size` bytes (the size decides ZIP64, the CRC follows the data). */
  async begin(name: string, size: number): Promise<ZipEntryWriter> {
    if (this.open) throw new Error('an entry is still open');
    const nameBytes = Buffer.from(name, 'utf8');
    if (nameBytes.byteLength > U16_MAX) throw new Error('entry name too long');
    if (this.state.entries.length >= Number.MAX_SAFE_INTEGER) throw new Error('too many entries');
    const zip64 = size >= U32_MAX;
    const offset = this.state.offset;
    const extra = zip64 ? zip64Extra([0, 0]) : Buffer.alloc(0);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, 4);
    header.writeUInt16LE(FLAG_DATA_DESCRIPTOR | FLAG_UTF8, 6);
    header.writeUInt16LE(0, 8); // stored
    header.writeUInt16LE(this.state.dosTime, 10);
    header.writeUInt16LE(this.state.dosDate, 12);
    // CRC and sizes are in the data descriptor (0 here; 0xFFFFFFFF sizes point to the ZIP64 field).
    header.writeUInt32LE(0, 14);
    header.writeUInt32LE(zip64 ? U32_MAX : 0, 18);
    header.writeUInt32LE(zip64 ? U32_MAX : 0, 22);
    header.writeUInt16LE(nameBytes.byteLength, 26);
    header.writeUInt16LE(extra.byteLength, 28);
    this.open = true;
    await this.emit(Buffer.concat([header, nameBytes, extra]));
    let crc = 0;
    let written = 0;
    return {
      write: async (bytes, bytesCrc) => {
        const own = bytesCrc ?? crc32(bytes);
        crc = combineCrc32(crc, own, bytes.byteLength);
        written += bytes.byteLength;
        await this.emit(bytes, own);
      },
      end: async () => {
        if (written !== size) throw new Error(`entry ${name}: announced ${size} bytes, wrote ${written}`);
        const descriptor = Buffer.alloc(zip64 ? 24 : 16);
        descriptor.writeUInt32LE(0x08074b50, 0);
        descriptor.writeUInt32LE(crc >>> 0, 4);
        if (zip64) {
          descriptor.writeBigUInt64LE(BigInt(size), 8);
          descriptor.writeBigUInt64LE(BigInt(size), 16);
        } else {
          descriptor.writeUInt32LE(size, 8);
          descriptor.writeUInt32LE(size, 12);
        }
        await this.emit(descriptor);
        const entry: ZipEntryRecord = { name, crc32: crc >>> 0, size, offset, zip64 };
        this.state.entries.push(entry);
        this.open = false;
        return entry;
      },
    };
  }

  /** A whole entry from bytes in memory. */
  async add(name: string, bytes: Uint8Array): Promise<ZipEntryRecord> {
    const entry = await this.begin(name, bytes.byteLength);
    await entry.write(bytes);
    return entry.end();
  }

  /** Writes the central directory and the end records; the ZIP is complete after this. */
  async finish(): Promise<void> {
    if (this.open) throw new Error('an entry is still open');
    const cdOffset = this.state.offset;
    let cdSize = 0;
    // One central header at a time: the directory is never held whole in memory.
    for (const e of this.state.entries) {
      const header = centralHeader(e, this.state);
      cdSize += header.byteLength;
      await this.emit(header);
    }
    const count = this.state.entries.length;
    const needZip64 = count >= U16_MAX || cdSize >= U32_MAX || cdOffset >= U32_MAX;
    if (needZip64) {
      const zip64EndOffset = this.state.offset;
      const record = Buffer.alloc(56);
      record.writeUInt32LE(0x06064b50, 0);
      record.writeBigUInt64LE(44n, 4); // size of the rest of the record
      record.writeUInt16LE(MADE_BY, 12);
      record.writeUInt16LE(VERSION_ZIP64, 14);
      record.writeUInt32LE(0, 16);
      record.writeUInt32LE(0, 20);
      record.writeBigUInt64LE(BigInt(count), 24);
      record.writeBigUInt64LE(BigInt(count), 32);
      record.writeBigUInt64LE(BigInt(cdSize), 40);
      record.writeBigUInt64LE(BigInt(cdOffset), 48);
      const locator = Buffer.alloc(20);
      locator.writeUInt32LE(0x07064b50, 0);
      locator.writeUInt32LE(0, 4);
      locator.writeBigUInt64LE(BigInt(zip64EndOffset), 8);
      locator.writeUInt32LE(1, 16);
      await this.emit(Buffer.concat([record, locator]));
    }
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(0, 4);
    end.writeUInt16LE(0, 6);
    end.writeUInt16LE(Math.min(count, U16_MAX), 8);
    end.writeUInt16LE(Math.min(count, U16_MAX), 10);
    end.writeUInt32LE(Math.min(cdSize, U32_MAX), 12);
    end.writeUInt32LE(Math.min(cdOffset, U32_MAX), 16);
    end.writeUInt16LE(0, 20);
    await this.emit(end);
  }

  private async emit(bytes: Uint8Array, crc?: number): Promise<void> {
    this.state.offset += bytes.byteLength;
    await this.output(bytes, crc);
  }
}

function centralHeader(e: ZipEntryRecord, state: ZipState): Buffer {
  const nameBytes = Buffer.from(e.name, 'utf8');
  const bigSize = e.size >= U32_MAX;
  const bigOffset = e.offset >= U32_MAX;
  // APPNOTE 4.5.3: the ZIP64 field holds only the values whose 32-bit field is 0xFFFFFFFF, in this order.
  const zip64Values = [...(bigSize ? [e.size, e.size] : []), ...(bigOffset ? [e.offset] : [])];
  const extra = zip64Values.length > 0 ? zip64Extra(zip64Values) : Buffer.alloc(0);
  const header = Buffer.alloc(46);
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(MADE_BY, 4);
  header.writeUInt16LE(e.zip64 || bigOffset ? VERSION_ZIP64 : VERSION_DEFAULT, 6);
  header.writeUInt16LE(FLAG_DATA_DESCRIPTOR | FLAG_UTF8, 8);
  header.writeUInt16LE(0, 10);
  header.writeUInt16LE(state.dosTime, 12);
  header.writeUInt16LE(state.dosDate, 14);
  header.writeUInt32LE(e.crc32, 16);
  header.writeUInt32LE(bigSize ? U32_MAX : e.size, 20);
  header.writeUInt32LE(bigSize ? U32_MAX : e.size, 24);
  header.writeUInt16LE(nameBytes.byteLength, 28);
  header.writeUInt16LE(extra.byteLength, 30);
  header.writeUInt16LE(0, 32); // comment
  header.writeUInt16LE(0, 34); // disk
  header.writeUInt16LE(0, 36); // internal attributes
  header.writeUInt32LE(EXTERNAL_ATTRS, 38);
  header.writeUInt32LE(bigOffset ? U32_MAX : e.offset, 42);
  return Buffer.concat([header, nameBytes, extra]);
}

function zip64Extra(values: number[]): Buffer {
  const extra = Buffer.alloc(4 + 8 * values.length);
  extra.writeUInt16LE(0x0001, 0);
  extra.writeUInt16LE(8 * values.length, 2);
  for (const [i, v] of values.entries()) extra.writeBigUInt64LE(BigInt(v), 4 + 8 * i);
  return extra;
}

/** MS-DOS date and time (APPNOTE 4.4.6), in UTC; years before 1980 are clamped to 1980. */
export function dosDateTime(at: Date): { time: number; date: number } {
  const year = Math.max(1980, Math.min(2107, at.getUTCFullYear()));
  return {
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | Math.floor(at.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
  };
}
