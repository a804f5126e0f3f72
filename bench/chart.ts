/**
 * The benchmark's chart, an SVG written by hand (no dependency): two panels of grouped bars, MB/s and
 * CPU s per GB, one group per file size and one bar per path, each bar labelled with its value.
 */
import type { PathName, Row } from './bench-context.js';
import { cpuPerGb, formatSize } from './report.js';

const COLORS: Record<PathName, string> = {
  ingest: '#1f77b4',
  baseline: '#9aa5b1',
  'baseline-sdk': '#c7cdd4',
  rclone: '#ff7f0e',
};
const PANEL = { width: 470, height: 300, top: 60, left: 50, bottom: 50 };

interface Panel {
  title: string;
  value: (r: Row) => number | undefined;
  digits: number;
}

export function drawChart(rows: Row[], opts: { title: string }): string {
  const ok = rows.filter((r) => r.ok);
  const sizes = [...new Set(ok.map((r) => r.sizeBytes))];
  const paths = (Object.keys(COLORS) as PathName[]).filter((p) => ok.some((r) => r.path === p));
  const panels: Panel[] = [
    { title: 'MB/s (higher is better)', value: (r) => r.mbPerSecond, digits: 0 },
    { title: 'CPU s per GB of the transferring process (lower is better)', value: (r) => cpuPerGb(r), digits: 2 },
  ];
  const width = PANEL.width * panels.length + 20;
  const height = PANEL.top + PANEL.height + PANEL.bottom + 30;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" ` +
      `font-weight="bold">${escapeXml(opts.title)}</text>`,
  ];
  for (const [i, panel] of panels.entries()) parts.push(...drawPanel(panel, ok, sizes, paths, 10 + i * PANEL.width));
  let x = 20;
  const legendY = PANEL.top + PANEL.height + PANEL.bottom + 10;
  for (const path of paths) {
    parts.push(
      `<rect x="${x}" y="${legendY}" width="12" height="12" fill="${COLORS[path]}"/>`,
      `<text x="${x + 16}" y="${legendY + 10}">${path}</text>`,
    );
    x += 30 + path.length * 7;
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function drawPanel(panel: Panel, rows: Row[], sizes: number[], paths: PathName[], x0: number): string[] {
  const innerWidth = PANEL.width - PANEL.left - 20;
  const baseY = PANEL.top + PANEL.height;
  const values = rows.map(panel.value).filter((v): v is number => v !== undefined);
  const max = niceMax(Math.max(1e-9, ...values));
  const out: string[] = [
    `<text x="${x0 + PANEL.width / 2}" y="${PANEL.top - 20}" text-anchor="middle" ` +
      `font-size="12">${escapeXml(panel.title)}</text>`,
  ];
  for (let k = 0; k <= 4; k++) {
    const y = baseY - (k / 4) * PANEL.height;
    out.push(
      `<line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.left + innerWidth}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="${x0 + PANEL.left - 6}" y="${y + 4}" text-anchor="end" ` +
        `fill="#555">${format((k / 4) * max, panel.digits)}</text>`,
    );
  }
  const groupWidth = innerWidth / Math.max(1, sizes.length);
  const barWidth = Math.min(28, (groupWidth - 12) / Math.max(1, paths.length));
  sizes.forEach((size, g) => {
    const groupX = x0 + PANEL.left + g * groupWidth + (groupWidth - barWidth * paths.length) / 2;
    paths.forEach((path, b) => {
      const row = rows.find((r) => r.sizeBytes === size && r.path === path);
      const v = row ? panel.value(row) : undefined;
      if (v === undefined) return;
      const h = (v / max) * PANEL.height;
      const x = groupX + b * barWidth;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${(baseY - h).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" ` +
          `height="${h.toFixed(1)}" fill="${COLORS[path]}"><title>${path}, ` +
          `${formatSize(size)}: ${format(v, 2)}</title></rect>`,
        `<text x="${(x + barWidth / 2 - 1).toFixed(1)}" y="${(baseY - h - 3).toFixed(1)}" ` +
          `text-anchor="middle" font-size="9">${format(v, panel.digits === 0 ? 0 : 1)}</text>`,
      );
    });
    out.push(
      `<text x="${(x0 + PANEL.left + (g + 0.5) * groupWidth).toFixed(1)}" ` +
        `y="${baseY + 16}" text-anchor="middle">${formatSize(size)}</text>`,
    );
  });
  out.push(
    `<line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.left + innerWidth}" y1="${baseY}" y2="${baseY}" stroke="#333"/>`,
  );
  return out;
}

function niceMax(v: number): number {
  const step = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * step >= v) return m * step;
  return 10 * step;
}

function format(v: number, digits: number): string {
  return v.toFixed(digits);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
