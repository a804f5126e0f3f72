/**
 * Download and verify: the exact archived version is fetched through its presigned URL and its
 * SHA-256 recomputed here with Web Crypto, then compared with the archived record's. Web Crypto has
 * no incremental digest, so the bytes are held in memory once (the console says so for large files).
 */
export interface Verification {
  sha256: string;
  bytes: number;
  matches: boolean;
}

export async function downloadAndVerify(
  url: string,
  expectedSha256: string,
  fetchImpl: typeof fetch = fetch,
): Promise<Verification & { blob: Blob }> {
  // The presigned URL carries its own signature: no credentials, no cookies, no referrer.
  const res = await fetchImpl(url, { credentials: 'omit', referrerPolicy: 'no-referrer', cache: 'no-store' });
  if (!res.ok) throw new Error(`The archive answered ${res.status} to the download.`);
  const buffer = await res.arrayBuffer();
  const sha256 = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', buffer)));
  return {
    sha256,
    bytes: buffer.byteLength,
    matches: sha256 === expectedSha256.toLowerCase(),
    blob: new Blob([buffer], { type: res.headers.get('content-type') ?? 'application/octet-stream' }),
  };
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
