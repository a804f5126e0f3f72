/**
 * `archiver download`: fetches the archived copy from the presigned URL the lookup API redirects to
 * and re-computes its SHA-256 (and MD5 and size) on the same pass as it writes the bytes, so the
 * file on disk is checked against the index's evidence without a second read. The bytes go to a
 * temporary file beside the destination, renamed into place only when every check passes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { CliError } from './exit-codes.js';

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

/** Streams `url` into `sink`, hashing on the way. */
export async function streamHashed(url: string, sink: NodeJS.WritableStream): Promise<Measured> {
  let res;
  try {
    // No credentials: the presigned URL carries its own signature, and a SigV4 header would break it.
    res = await request(url, { method: 'GET' });
  } catch (err) {
    throw new CliError(`cannot fetch the archived copy: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (res.statusCode !== 200) {
    const text = (await res.body.text()).slice(0, 2000);
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
    throw new CliError(
      `the archive answered ${res.statusCode}${code ? ` (${code})` : ''} for the download URL${code === 'AccessDenied' && /expired/i.test(text) ? ': the URL expired, try again' : ''}`,
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
  await pipeline(res.body, hasher, sink);
  return { sha256: sha256.digest('hex'), md5: md5.digest('hex'), bytes };
}

/**
 * Downloads into `destination` through a temporary file. A copy that fails verification is kept
 * only with `keepMismatch` (as `<destination>.unverified`, for inspection), never under its name.
 */
export async function downloadToFile(
  url: string,
  expected: Expected,
  destination: string,
  keepMismatch: boolean,
): Promise<Verification & { path: string }> {
  const temp = join(dirname(destination), `.${basename(destination)}.${randomBytes(4).toString('hex')}.partial`);
  try {
    const measured = await streamHashed(url, createWriteStream(temp, { flags: 'wx' }));
    const mismatches = compareWithRecord(expected, measured);
    if (mismatches.length === 0) {
      await rename(temp, destination);
      return { measured, mismatches, path: destination };
    }
    if (keepMismatch) {
      await rename(temp, `${destination}.unverified`);
      return { measured, mismatches, path: `${destination}.unverified` };
    }
    await rm(temp, { force: true });
    return { measured, mismatches, path: destination };
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** A file name for the download from the record's, reduced to one safe path segment. */
export function safeFileName(filename: string | null | undefined, fileId: string): string {
  // Upstream names are untrusted: no directories, no control characters, no dot-only names.
  const cleaned = (filename ?? '')
    .replace(/[\p{Cc}\p{Cf}]/gu, '')
    .replace(/[/\\]/g, '_')
    .trim();
  if (cleaned === '' || /^\.+$/.test(cleaned)) return fileId;
  return cleaned.slice(0, 200);
}
