/**
 * Text for an auditor's terminal. File names, chat titles, error details and dead-letter reasons come
 * from upstream or from queue bodies: untrusted. Printed raw, a name could carry terminal escape
 * sequences (ESC, CSI as C1 0x9B, OSC titles, hyperlinks), a carriage return that overwrites what was
 * printed before, or a bidi override that shows `exe.txt` for `txt.exe`. Every such character is
 * written as a visible `\uXXXX` escape instead: readable, and, inside a JSON string, the same JSON
 * escape that decodes back to the original character (so `--json` output stays exact).
 *
 * Written here rather than taken from a library: the packages that strip ANSI sequences (strip-ansi
 * and kin) remove only well-formed CSI/OSC sequences, keep lone C0/C1 characters and bidi controls,
 * and delete rather than show what they removed, which hides evidence from an auditor.
 */

// C0 (but tab and line feed), DEL, C1, Arabic letter mark, LRM/RLM, line/paragraph separators, the
// bidi embeddings and overrides (U+202A-202E) and isolates (U+2066-2069).
const UNSAFE_IN_BLOCK =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// The same, and tab and line feed too: one cell or value stays on one line.
const UNSAFE_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const asEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A block of output (several lines): line feeds and tabs stay, every other control character is escaped. */
export function safeBlock(text: string): string {
  return text.replace(UNSAFE_IN_BLOCK, asEscape);
}

/** One value (a table cell, a name in a message): every control character is escaped, line feeds too. */
export function safeLine(text: string): string {
  return text.replace(UNSAFE_IN_LINE, asEscape);
}
