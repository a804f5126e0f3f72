import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeHttpServer, listenOnLoopback } from '../../local/loopback.js';
import { CliError } from '../../cli/exit-codes.js';
import { installInterruptHandlers } from '../../cli/interrupts.js';
import { tempFiles } from '../../cli/temp-files.js';
import { MAX_NAME_BYTES, downloadToFile, safeFileName } from '../../cli/verified-download.js';

// `archiver download` on the auditor's disk: the name it picks for an untrusted file name, that it
// never replaces a file without --force, and that no `.partial` outlives it, even on a second Ctrl-C.
const ID = 'claude_file_01X';

/** Any code point but lone surrogates (fc's 'binary' unit costs seconds to set up). */
const anyCodePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .filter((c) => c < 0xd800 || c > 0xdfff)
  .map((c) => String.fromCodePoint(c));

/** Names built from the pieces that break naive sanitizers, and random text between them. */
const hostileName = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '.',
        ' ',
        '..',
        'CON',
        'nul',
        'com1',
        '/',
        '\\',
        ':',
        '日',
        '😀',
        '\u202e',
        '\u0000',
        '\u009b',
        '.txt',
      ),
      fc.string({ unit: anyCodePoint, maxLength: 40 }),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

describe('the name a download is written under', () => {
  it('never lands hidden: leading dots and spaces go', () => {
    expect(safeFileName('.npmrc', ID)).toBe('npmrc');
    expect(safeFileName(' ...bashrc', ID)).toBe('bashrc');
  });

  it('gives a Windows device name a leading underscore, with or without an extension', () => {
    for (const reserved of ['CON', 'nul', 'Com1', 'LPT9', 'aux.txt', 'prn.tar.gz', 'com\u00b9'])
      expect(safeFileName(reserved, ID)).toBe(`_${reserved}`);
    expect(safeFileName('console.txt', ID)).toBe('console.txt');
    expect(safeFileName('COM10', ID)).toBe('COM10');
  });

  it('drops trailing dots and spaces and replaces the characters Windows refuses', () => {
    expect(safeFileName('report.txt. . ', ID)).toBe('report.txt');
    expect(safeFileName('a<b>c:d"e|f?g*h', ID)).toBe('a_b_c_d_e_f_g_h');
  });

  it('cuts a long name by UTF-8 bytes on a code point, keeping its extension', () => {
    // 104 UTF-16 units but 304 UTF-8 bytes: a cut at 200 units would exceed 255 bytes.
    const name = safeFileName(`${'日'.repeat(100)}.csv`, ID);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(name).toBe(`${'日'.repeat(65)}.csv`);
    const emoji = safeFileName('😀'.repeat(80), ID);
    expect(emoji).toBe('😀'.repeat(50));
    expect(emoji).not.toContain('\ufffd');
  });

  it('is one short, visible, portable path segment whatever the input', () => {
    fc.assert(
      fc.property(fc.option(hostileName), (input) => {
        const name = safeFileName(input, ID);
        expect(name.length).toBeGreaterThan(0);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_NAME_BYTES);
        expect(name).not.toMatch(/[/\\<>:"|?*\p{Cc}\p{Cf}]/u);
        expect(name).not.toMatch(/^[.\s]|[.\s]$/u);
        expect(name).not.toMatch(/^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i);
        expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name);
      }),
    );
  });
});

describe('writing the download', () => {
  const BYTES = Buffer.from('archived bytes\n');
  const sha256 = createHash('sha256').update(BYTES).digest('hex');
  let stall: (() => void) | undefined;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-length': String(BYTES.length * 2) });
    if (req.url === '/stall') {
      // Half the body, then nothing until the test lets go.
      res.write(BYTES);
      stall = () => res.destroy();
      return;
    }
    res.end(Buffer.concat([BYTES, BYTES]).subarray(0, BYTES.length * 2));
  });
  let base = '';
  let dir = '';
  beforeAll(async () => {
    base = `http://127.0.0.1:${await listenOnLoopback(server)}`;
    dir = await mkdtemp(join(tmpdir(), 'archiver-download-'));
  });
  afterAll(async () => {
    stall?.();
    await closeHttpServer(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('--keep-unverified never replaces an existing file without --force', async () => {
    const dest = join(dir, 'kept.txt');
    await writeFile(`${dest}.unverified`, 'precious');
    // The server sends the bytes twice: the size and hashes do not match the record.
    const expected = { sha256, sizeBytes: BYTES.length };
    await expect(
      downloadToFile(`${base}/double`, expected, dest, { keepMismatch: true, overwrite: false }),
    ).rejects.toThrow(
      new CliError(`${dest}.unverified exists: choose another path with -o, or pass --force to replace it`),
    );
    expect(await readFile(`${dest}.unverified`, 'utf8')).toBe('precious');
    const forced = await downloadToFile(`${base}/double`, expected, dest, { keepMismatch: true, overwrite: true });
    expect(forced.kept).toBe(true);
    expect((await readFile(`${dest}.unverified`)).length).toBe(BYTES.length * 2);
    expect((await readdir(dir)).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('a second Ctrl-C exits at once with 130 and removes the partial file first', async () => {
    const proc = new EventEmitter() as EventEmitter & { exit(code: number): void; exited?: number };
    proc.exit = (code) => {
      proc.exited = code;
    };
    const signal = installInterruptHandlers(proc);
    const dest = join(dir, 'interrupted.txt');
    const running = downloadToFile(`${base}/stall`, { sha256 }, dest, { keepMismatch: false, overwrite: false });
    running.catch(() => undefined);
    // Wait until the partial file holds the first half.
    let partial: string | undefined;
    for (let i = 0; i < 200 && !partial; i++) {
      await new Promise((r) => setTimeout(r, 10));
      partial = tempFiles.list().find((p) => p.includes('interrupted.txt') && existsSync(p));
    }
    expect(partial).toBeDefined();
    proc.emit('SIGINT');
    expect(signal.aborted).toBe(true);
    expect(proc.exited).toBeUndefined();
    proc.emit('SIGINT');
    expect(proc.exited).toBe(130);
    expect(existsSync(partial ?? '')).toBe(false);
    stall?.();
    await expect(running).rejects.toThrow();
    expect((await readdir(dir)).filter((f) => f.startsWith('.interrupted'))).toEqual([]);
  });
});
