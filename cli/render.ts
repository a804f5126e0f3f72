/** Plain-text rendering shared by the commands: tables (cli-table3, no colour) and small formats. */
import Table from 'cli-table3';
import { safeLine } from './terminal-text.js';

/** A table; each cell is one line with its control characters escaped (terminal-text.ts). */
export function renderTable(head: string[], rows: (string | number)[][]): string {
  const table = new Table({ head: head.map(safeLine), style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map((cell) => safeLine(String(cell))));
  return table.toString();
}

/** Key/value lines, keys padded to one column; keys and values escaped as table cells are. */
export function renderPairs(pairs: [string, string | number | null | undefined][]): string {
  const safe = pairs.map(([k, v]): [string, string] => [safeLine(k), safeLine(String(v ?? '-'))]);
  const width = Math.max(...safe.map(([k]) => k.length));
  return safe.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export function formatBytes(n: number | null | undefined): string {
  if (typeof n !== 'number') return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** 95 → "1m35s", 7265 → "2h01m"; negative or not finite → "-". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

/** JSON for scripts: two-space indented, one trailing newline added by the caller's line writer. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
