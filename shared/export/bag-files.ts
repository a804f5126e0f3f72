/**
 * The tag files of an export's BagIt bag (RFC 8493) and its load files. No maintained BagIt package
 * exists on npm (the few there are read or write bags on a local disk, not as a stream into a ZIP),
 * and the format is a handful of text files: this module writes them. Layout: docs/exports.md.
 */
import { sanitizeFilename } from '../archive/content-disposition.js';

/** RFC 8493 §2.1.1: the bag declaration. */
export const BAGIT_TXT = 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n';

/** What the bag says about each exported file (the payload manifests, the load files, the custody page). */
export interface ExportedFile {
  fileId: string;
  /** Path inside the bag, `data/natives/…`. */
  bagPath: string;
  /** Path of its chain-of-custody JSON inside the bag. */
  custodyPath: string;
  chatIds: string[];
  projectId: string | null;
  creator: string | null;
  createdAt: string | null;
  /** The upstream filename, exactly as recorded (the bag's name is sanitised). */
  filename: string;
  mimeType: string | null;
  sizeBytes: number;
  md5: string;
  sha256: string;
  versionId: string | null;
  archivedAt: string;
  upstreamDeletions: number;
}

const MAX_NAME_BYTES = 200;
/** Characters Windows refuses in names, and `%`, which RFC 8493 manifests would have to percent-encode. */
const NOT_PORTABLE = /[<>:"|?*%]/g;

/**
 * The payload path of a file: `data/natives/<fileId>_<name>`. The file id makes it unique; the name
 * is the recorded filename made safe (shared/archive sanitising, then the characters other systems
 * refuse, then cut to 200 UTF-8 bytes keeping a short extension) so that any unzip tool can write it.
 */
export function payloadPath(fileId: string, filename: string): string {
  const safe = sanitizeFilename(filename).replace(NOT_PORTABLE, '_');
  return `data/natives/${fileId}_${truncateUtf8(safe, MAX_NAME_BYTES - fileId.length - 1)}`;
}

function truncateUtf8(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name) <= maxBytes) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  let out = '';
  for (const ch of name.slice(0, name.length - ext.length)) {
    if (Buffer.byteLength(out + ch + ext) > maxBytes) break;
    out += ch;
  }
  return `${out}${ext}`;
}

/** RFC 8493 §2.1.3: `<checksum> <path>` per line; paths need no encoding (payloadPath keeps out CR, LF and %). */
export function manifest(files: readonly { path: string; digest: string }[]): string {
  return files.map((f) => `${f.digest}  ${f.path}\n`).join('');
}

export interface BagInfo {
  sourceOrganization: string;
  baggingDate: string;
  payloadBytes: number;
  payloadFiles: number;
  exportId: string;
  matterId: string | null;
  /** The matter's hold scope, when the export takes a matter's files. */
  matterScope: unknown;
  /** The export's own scope (narrowing the matter's files, when both are given). */
  scope: unknown;
  description: string | null;
}

/** RFC 8493 §2.2.2 `bag-info.txt`: reserved labels, then the export's own (`Archiver-…`). */
export function bagInfoTxt(info: BagInfo): string {
  const lines = [
    ['Source-Organization', info.sourceOrganization],
    ['Bagging-Date', info.baggingDate.slice(0, 10)],
    ['Payload-Oxum', `${info.payloadBytes}.${info.payloadFiles}`],
    ['External-Identifier', info.exportId],
    ...(info.description ? [['External-Description', info.description]] : []),
    ['Archiver-Matter', info.matterId ?? '(none)'],
    ...(info.matterScope ? [['Archiver-Matter-Scope', JSON.stringify(info.matterScope)]] : []),
    ['Archiver-Scope', info.scope === null ? "(the matter's)" : JSON.stringify(info.scope)],
    ['Archiver-Exported-At', info.baggingDate],
  ];
  // A value is one line: labels and values never carry CR or LF (§2.2.2 allows folding; none is needed).
  return lines.map(([label, value]) => `${label}: ${String(value).replace(/[\r\n]+/g, ' ')}\n`).join('');
}

/** The load file's columns, in order (docs/exports.md). */
export const LOAD_FILE_COLUMNS = [
  'FileId',
  'NativePath',
  'ChatIds',
  'ProjectId',
  'Creator',
  'CreatedAt',
  'Filename',
  'MimeType',
  'SizeBytes',
  'MD5',
  'SHA256',
  'S3VersionId',
] as const;

function loadFileRow(f: ExportedFile): string[] {
  return [
    f.fileId,
    f.bagPath,
    f.chatIds.join(';'),
    f.projectId ?? '',
    f.creator ?? '',
    f.createdAt ?? '',
    f.filename,
    f.mimeType ?? '',
    String(f.sizeBytes),
    f.md5,
    f.sha256,
    f.versionId ?? '',
  ];
}

/** RFC 4180 CSV, CRLF line ends, every value as recorded (quoted where it holds `"`, `,`, CR or LF). */
export function loadFileCsv(files: readonly ExportedFile[]): string {
  const cell = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const rows = [[...LOAD_FILE_COLUMNS], ...files.map(loadFileRow)];
  return `${rows.map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}

/** Concordance DAT delimiters: field separator, quote, and the stand-in for a newline inside a field. */
export const DAT = { separator: '\u0014', quote: '\u00fe', newline: '\u00ae' } as const;

/**
 * A Concordance DAT load file: UTF-8 with a byte-order mark, every field between þ quotes, fields
 * separated by U+0014, rows by CRLF, a newline inside a field written as ®. The format has no
 * escape: a value's own U+0014 or þ becomes U+FFFD here (the CSV keeps the exact value).
 */
export function loadFileDat(files: readonly ExportedFile[]): string {
  const field = (v: string): string =>
    DAT.quote + v.replace(/[\u0014\u00fe]/g, '\uFFFD').replace(/\r\n|\r|\n/g, DAT.newline) + DAT.quote;
  const rows = [[...LOAD_FILE_COLUMNS], ...files.map(loadFileRow)];
  return `\uFEFF${rows.map((r) => r.map(field).join(DAT.separator)).join('\r\n')}\r\n`;
}

function escapeHtml(v: string): string {
  return v.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** The chain-of-custody page's style sheet (one line in the page). */
const CUSTODY_STYLE =
  'body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}' +
  'td,th{border:1px solid #999;padding:4px;font-size:13px;text-align:left}code{font-size:12px}';

/** The header row of the chain-of-custody page's table of files. */
const CUSTODY_FILES_HEADER =
  '<tr><th>File id</th><th>Filename</th><th>Bytes</th><th>SHA-256</th><th>MD5</th><th>S3 version</th>' +
  '<th>Archived at</th><th>Deleted upstream</th><th>Report</th></tr>';

/** The chain-of-custody page for the whole export: one self-contained HTML document, no script. */
export function custodyHtml(
  info: BagInfo,
  files: readonly ExportedFile[],
  notArchived: readonly { fileId: string; status: string }[],
  sources: readonly string[],
): string {
  const e = escapeHtml;
  const matterScope = info.matterScope ? `, its scope <code>${e(JSON.stringify(info.matterScope))}</code>` : '';
  const rows = files
    .map(
      (f) =>
        `<tr><td><code>${e(f.fileId)}</code></td><td>${e(f.filename)}</td><td>${f.sizeBytes}</td>` +
        `<td><code>${f.sha256}</code></td><td><code>${f.md5}</code></td><td><code>${e(f.versionId ?? '')}</code></td>` +
        `<td>${e(f.archivedAt)}</td><td>${f.upstreamDeletions > 0 ? 'yes' : 'no'}</td>` +
        `<td><a href="${e(encodeURI(f.custodyPath.replace(/^custody\//, '')))}">JSON</a></td></tr>`,
    )
    .join('\n');
  const missing = notArchived
    .map((m) => `<tr><td><code>${e(m.fileId)}</code></td><td>${e(m.status)}</td></tr>`)
    .join('\n');
  const missingSection =
    notArchived.length === 0
      ? '<p>None: every file in scope had an archived copy.</p>'
      : `<table><thead><tr><th>File id</th><th>Status</th></tr></thead><tbody>\n${missing}\n</tbody></table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chain of custody: ${e(info.exportId)}</title>
<style>${CUSTODY_STYLE}</style>
</head><body>
<h1>Chain of custody</h1>
<p>Export <code>${e(info.exportId)}</code> of ${e(info.sourceOrganization)}, made ${e(info.baggingDate)}.
Matter: ${e(info.matterId ?? '(none)')}${matterScope}.
Scope: <code>${e(JSON.stringify(info.scope))}</code>.</p>
<p>${info.payloadFiles} files, ${info.payloadBytes} bytes. Every file's bytes were read from its archived S3 version,
hashed as they streamed into this bag, and matched the MD5 and SHA-256 recorded when it was archived.
Each file's own report (JSON, linked) has the upstream request id, the published MD5 and Content-MD5, the
archive's hashes and version, upstream deletions, the discovery runs that covered it, the legal-hold matters
that hold or held it, its fixity checks, and the access trail's events naming it.</p>
<p>Sources of evidence: ${e(sources.join('; '))}.</p>
<h2>Files</h2>
<table><thead>${CUSTODY_FILES_HEADER}</thead>
<tbody>
${rows}
</tbody></table>
<h2>In scope, not in the bag</h2>
${missingSection}
</body></html>
`;
}
