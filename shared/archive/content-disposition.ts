/**
 * Upstream filenames are untrusted: they may hold `../`, slashes, control characters and run to 500
 * characters. They never reach an S3 key; they are sanitised for display and encoded per RFC 6266 /
 * RFC 5987 for `Content-Disposition`.
 */
const MAX_FILENAME_CODE_POINTS = 255;

// Lone UTF-16 surrogates are legal in JSON strings but not in UTF-8 (encodeURIComponent throws).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// C0 and C1 controls, DEL, and bidirectional overrides that can disguise an extension.
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;

/** The string with each lone surrogate replaced by U+FFFD, so that it has a UTF-8 encoding. */
export function toWellFormed(value: string): string {
  return value.replace(LONE_SURROGATE, '\uFFFD');
}

/** A filename safe to show and to offer as a download name: no controls, no path, bounded length. */
export function sanitizeFilename(name: string): string {
  let clean = toWellFormed(name).normalize('NFC').replace(UNSAFE_CHARS, '').replace(/[/\\]/g, '_').trim();
  // A name made only of dots would mean "this folder" or "the parent" to whoever saves it.
  if (/^\.+$/.test(clean)) clean = clean.replace(/\./g, '_');
  const codePoints = [...clean];
  if (codePoints.length > MAX_FILENAME_CODE_POINTS) clean = codePoints.slice(0, MAX_FILENAME_CODE_POINTS).join('');
  return clean.length > 0 ? clean : 'file';
}

/** RFC 5987 ext-value encoding: only attr-char stays literal. */
export function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `attachment` with an ASCII fallback `filename` and the exact name in `filename*`. */
export function contentDisposition(filename: string): string {
  const name = sanitizeFilename(filename);
  const fallback = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(name)}`;
}

const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

/** The upstream MIME type when it is a well-formed type/subtype, else application/octet-stream. */
export function safeContentType(mimeType: string | null | undefined): string {
  if (mimeType && MIME_TYPE.test(mimeType.trim())) return mimeType.trim().toLowerCase();
  return 'application/octet-stream';
}
