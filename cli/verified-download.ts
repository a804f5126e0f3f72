/**
 * `archiver download`: fetches the archived copy from the presigned URL the lookup API redirects to
 * and re-computes its SHA-256 (and MD5 and size) on the same pass as it writes the bytes, so the
 * file on disk is checked against the index's evidence without a second read. The bytes go to a
 * temporary file beside the destination, renamed into place only when every check passes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { copyFile, link, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { toWellFormed } from '../shared/archive/content-disposition.js';
import { CliError } from './exit-codes.js';
import { tempFiles } from './temp-files.js';

export interface Expected {
  sha256: string;
  md5?: string | undefined;
  sizeBytes?: number | null | undefined;
}

export interface Measured {
  sha256: string;
  md5: string;
  bytes: number;
}

export interface Verification {
  measured: Measured;
  /** Each check that failed, e.g. "sha256 expected …, got …"; empty when the copy is intact. */
  mismatches: string[];
}

/** Compares what was read with the record's evidence. */
export function compareWithRecord(expected: Expected, measured: Measured): string[] {
  const out: string[] = [];
  if (measured.sha256 !== expected.sha256.toLowerCase())
    out.push(`sha256 expected ${expected.sha256}, got ${measured.sha256}`);
  if (expected.md5 !== undefined && measured.md5 !== expected.md5.toLowerCase())
    out.push(`md5 expected ${expected.md5}, got ${measured.md5}`);
  if (typeof expected.sizeBytes === 'number' && measured.bytes !== expected.sizeBytes)
    out.push(`size expected ${expected.sizeBytes} bytes, got ${measured.bytes}`);
  return out;
}

/** Streams `url` into `sink`, hashing on the way; `signal` (Ctrl-C) stops it. */
export async function streamHashed(
  url: string,
  sink: NodeJS.WritableStream,
  signal?: AbortSignal | undefined,
): Promise<Measured> {
  let res;
  try {
    // No credentials: the presigned URL carries its own signature, and a SigV4 header would break it.
    res = await request(url, { method: 'GET', ...(signal ? { signal } : {}) });
  } catch (err) {
    throw new CliError(`cannot fetch the archived copy: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (res.statusCode !== 200) {
    const text = (await res.body.text()).slice(0, 2000);
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw new CliError(
      `the archive answered ${res.statusCode}${code ? ` (${code})` : ''} ` +
        `for the download URL${code === 'AccessDenied' && /expired/i.test(text) ? ': the URL expired, try again' : ''}`,
    );
  }
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  let bytes = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sha256.update(chunk);
      md5.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(res.body, hasher, sink, ...(signal ? [{ signal }] : []));
  return { sha256: sha256.digest('hex'), md5: md5.digest('hex'), bytes };
}

export interface DownloadToFileOptions {
  /** Keep a copy that fails verification, as `<destination>.unverified`, for inspection. */
  keepMismatch: boolean;
  /** Replace an existing file (the destination, or the `.unverified` copy); otherwise never. */
  overwrite: boolean;
  signal?: AbortSignal | undefined;
}

/**
 * Downloads into `destination` through a temporary file beside it (registered in temp-files.ts, so a
 * second Ctrl-C removes it too). A copy that fails verification is kept only with `keepMismatch`,
 * never under the destination's name. Without `overwrite`, an existing file is never replaced, also
 * if it appeared while the bytes were on their way: the copy is put in place with a no-clobber link.
 */
export async function downloadToFile(
  url: string,
  expected: Expected,
  destination: string,
  opts: DownloadToFileOptions,
): Promise<Verification & { path: string; kept: boolean }> {
  const temp = join(dirname(destination), `.${basename(destination)}.${randomBytes(4).toString('hex')}.partial`);
  tempFiles.track(temp);
  try {
    const measured = await streamHashed(url, createWriteStream(temp, { flags: 'wx' }), opts.signal);
    const mismatches = compareWithRecord(expected, measured);
    if (mismatches.length === 0) {
      await placeFile(temp, destination, opts.overwrite);
      return { measured, mismatches, path: destination, kept: true };
    }
    if (opts.keepMismatch) {
      const kept = `${destination}.unverified`;
      await placeFile(temp, kept, opts.overwrite);
      return { measured, mismatches, path: kept, kept: true };
    }
    return { measured, mismatches, path: destination, kept: false };
  } finally {
    await rm(temp, { force: true });
    tempFiles.forget(temp);
  }
}

/**
 * Moves `temp` to `target`. With `overwrite`, a rename (atomic, replaces). Without, a hard link, which
 * fails with EEXIST rather than replace a file (link(2)); where the file system has no hard links, a
 * copy with COPYFILE_EXCL, which fails the same way. The caller removes `temp`.
 */
async function placeFile(temp: string, target: string, overwrite: boolean): Promise<void> {
  try {
    if (overwrite) await rename(temp, target);
    else
      await link(temp, target).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPERM' && err.code !== 'ENOTSUP' && err.code !== 'EOPNOTSUPP') throw err;
        await copyFile(temp, target, constants.COPYFILE_EXCL);
      });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new CliError(`${target} exists: choose another path with -o, or pass --force to replace it`);
    throw err;
  }
}

/**
 * Most UTF-8 bytes of a name the download writes: file systems allow 255 (ext4, APFS, NTFS counts
 * UTF-16 units, fewer), and the temporary `.<name>.<8 hex>.partial` and the `.unverified` copy add up
 * to 18 more.
 */
export const MAX_NAME_BYTES = 200;

/** CON, PRN, AUX, NUL, COM0-9, LPT0-9 (and the superscript digits), with or without an extension. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])(\..*)?$/i;

/**
 * A file name for the download from the record's, reduced to one safe, portable path segment.
 * Upstream names are untrusted. Written here rather than with sanitize-filename or filenamify: those
 * replace a reserved name by the replacement string or keep leading dots and bidi controls, and cut at
 * 255 bytes, leaving no room for the temporary file's suffix.
 * - no directories (`/`, `\`) and no characters Windows refuses (`<>:"|?*`): each becomes `_`;
 * - no control or format characters (C0, C1, DEL, bidi overrides, zero-width joiners): removed;
 * - no leading dots or spaces (a file must not land hidden, as `.npmrc` or `.bashrc`), no trailing
 *   dots or spaces (Windows drops them, so `a.txt.` would become `a.txt`);
 * - a Windows device name (CON, NUL, COM1, LPT1, `con.txt` too) gets a leading `_`;
 * - at most MAX_NAME_BYTES UTF-8 bytes, cut on a code point, keeping a short extension;
 * - nothing left: the file id.
 */
export function safeFileName(filename: string | null | undefined, fileId: string): string {
  let name = toWellFormed(filename ?? '')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '')
    .replace(/[/\\<>:"|?*]/g, '_')
    .replace(/^[.\s]+/u, '')
    .replace(/[.\s]+$/u, '');
  if (name === '') return fileId;
  if (WINDOWS_RESERVED.test(name)) name = `_${name}`;
  return truncateUtf8(name, MAX_NAME_BYTES) || fileId;
}

/** Cuts `name` to `maxBytes` of UTF-8 on a code point boundary, keeping its extension when short. */
function truncateUtf8(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && Buffer.byteLength(name.slice(dot)) <= 32 ? name.slice(dot) : '';
  const stem = ext ? name.slice(0, dot) : name;
  const budget = maxBytes - Buffer.byteLength(ext);
  let out = '';
  let bytes = 0;
  for (const codePoint of stem) {
    const size = Buffer.byteLength(codePoint);
    if (bytes + size > budget) break;
    out += codePoint;
    bytes += size;
  }
  return `${out.replace(/[.\s]+$/u, '')}${ext}`;
}
