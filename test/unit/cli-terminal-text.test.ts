import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/io.js';
import { runProgram } from '../../cli/program.js';
import { renderPairs, renderTable } from '../../cli/render.js';
import { safeBlock, safeLine } from '../../cli/terminal-text.js';

// What the CLI writes to an auditor's terminal carries no control character of untrusted text: no
// escape sequence (C0 ESC, C1 CSI), no carriage return, no bidi override reaches it raw.
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** Any code point, the control and bidi ranges often (fc's 'binary' unit costs seconds to set up). */
const anyText = fc
  .array(
    fc.oneof(
      fc.integer({ min: 0, max: 0xa0 }),
      fc.integer({ min: 0x2000, max: 0x206f }),
      fc.integer({ min: 0, max: 0x10ffff }).filter((c) => c < 0xd800 || c > 0xdfff),
    ),
    { maxLength: 64 },
  )
  .map((codes) => String.fromCodePoint(...codes));
const HOSTILE = 'a\u001b[2J\u009b31m\rb\u202ecod.exe\u2066\u0007';

describe('terminal-safe text', () => {
  it('escapes C0, DEL, C1 and bidi controls visibly, keeping line feeds and tabs in a block only', () => {
    expect(safeLine(HOSTILE)).toBe('a\\u001b[2J\\u009b31m\\u000db\\u202ecod.exe\\u2066\\u0007');
    expect(safeLine('one\ntwo\tthree\u007f')).toBe('one\\u000atwo\\u0009three\\u007f');
    expect(safeBlock('one\ntwo\tthree\u007f')).toBe('one\ntwo\tthree\\u007f');
  });

  it('leaves no raw control character in any string, and inside JSON decodes back to the original', () => {
    fc.assert(
      fc.property(
        anyText,
        (s) =>
          !RAW.test(safeLine(s)) &&
          !RAW.test(safeBlock(s).replace(/[\n\t]/g, '')) &&
          (JSON.parse(safeBlock(JSON.stringify({ s }))) as { s: string }).s === s,
      ),
    );
  });

  it('tables and key/value lists escape every cell, so a name cannot add rows or rewrite the screen', () => {
    const table = renderTable(['name'], [[`${HOSTILE}\nfake row`]]);
    expect(table).not.toMatch(RAW);
    expect(table.split('\n')).toHaveLength(5);
    expect(renderPairs([['filename', HOSTILE]])).not.toMatch(RAW);
  });

  it('every line a command writes goes through the escaping, error messages included', async () => {
    const out: string[] = [];
    const io: CliIo = {
      out: (t) => void out.push(t),
      err: (t) => void out.push(t),
      stdout: { write: () => true } as unknown as CliIo['stdout'],
      signal: new AbortController().signal,
      now: Date.now,
    };
    // commander names the unknown option in its error line: attacker-chosen text on stderr.
    const code = await runProgram([`--x${HOSTILE}`], {
      io,
      target: {
        env: {},
        readOutputs: async () => ({}),
        readSecret: async () => '',
        sampleApiKey: '',
        isRunning: () => true,
        useLocalCredentials: () => undefined,
        defaultDataDirs: [],
      },
    });
    expect(code).toBe(2);
    expect(out.join('\n')).toContain('\\u001b[2J');
    expect(out.join('\n')).not.toMatch(RAW);
  });
});
