import { S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig, ServiceInputTypes, ServiceOutputTypes } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { FinalizeRequestMiddleware } from '@smithy/types';

/**
 * The S3 and SQS client factories (aws-clients.ts re-exports them with the DynamoDB one). A module
 * without DynamoDB, for the lookup's rare routes bundle (lambdas/lookup/rare-routes.ts).
 */
export interface ClientOptions {
  endpoint?: string | undefined;
  region?: string | undefined;
  /** S3 only: a test server's user (the RADOS Gateway's); by default the SDK's provider chain. */
  credentials?: S3ClientConfig['credentials'];
}

/**
 * The one S3 configuration, in AWS and against local servers, so the tests run what production runs:
 *
 * - Checksums only where S3 requires them (`WHEN_REQUIRED`), not the SDK default (`WHEN_SUPPORTED`).
 *   The archive writer computes every checksum itself and sends it in a header: MD5 and CRC-32 on
 *   PutObject, CRC-32 on each part, the FULL_OBJECT CRC-32 at completion, with `ChecksumAlgorithm`
 *   CRC32 at every step (shared/archive/multipart-upload.ts). When a request carries an
 *   `x-amz-checksum-*` header the SDK adds nothing; what the default would add elsewhere is a CRC-32
 *   computed in JavaScript, and for streamed bodies an aws-chunked trailer, which s3rver stores as
 *   part of the object and Ceph's gateway refuses (411).
 * - No response checksum validation unless a call asks for it: the writer and the read-back verify
 *   MD5 and SHA-256 themselves, and the default would also put `x-amz-checksum-mode` into every
 *   presigned download URL.
 * - The SigV4 payload hash is skipped (`UNSIGNED-PAYLOAD`) for a request whose body carries its own
 *   checksum header, over TLS or to a loopback server (see `skipPayloadHashWhenChecksummed`).
 *
 * With an endpoint override (the local servers) addressing is path-style, because `bucket.127.0.0.1`
 * does not resolve; that is the only difference.
 */
export function createS3Client(opts: ClientOptions = {}): S3Client {
  const config: S3ClientConfig = {
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(opts.region ? { region: opts.region } : opts.endpoint ? { region: 'us-east-1' } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint, forcePathStyle: true } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  };
  const s3 = new S3Client(config);
  skipPayloadHashWhenChecksummed(s3);
  return s3;
}

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
/** The requests whose body is object data that S3 checks against a checksum header. */
const OBJECT_DATA_COMMANDS = new Set(['PutObjectCommand', 'UploadPartCommand']);
/** Headers whose value S3 checks against the body: Content-MD5 and `x-amz-checksum-<algorithm>`. */
const BODY_CHECKSUM_HEADER = /^(content-md5|x-amz-checksum-(crc32|crc32c|crc64nvme|sha1|sha256))$/i;

export interface SignableRequest {
  protocol: string;
  hostname: string;
  headers: Record<string, string>;
  body?: unknown;
}

function isSignableRequest(value: unknown): value is SignableRequest {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<SignableRequest>;
  return (
    typeof r.protocol === 'string' &&
    typeof r.hostname === 'string' &&
    typeof r.headers === 'object' &&
    r.headers !== null
  );
}

function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname)
  );
}

/**
 * Whether a request may skip the SigV4 hash of its body: it is a PutObject or UploadPart whose body
 * carries a checksum S3 verifies (so S3 still refuses altered or damaged bytes), and it travels over
 * TLS (which already protects it in transit) or to a server on this machine. Over plain HTTP to any
 * other host the body stays signed: there a CRC would not stop someone on the path from replacing it.
 */
export function mayLeavePayloadUnsigned(commandName: string | undefined, request: SignableRequest): boolean {
  if (commandName === undefined || !OBJECT_DATA_COMMANDS.has(commandName)) return false;
  if (request.body === undefined || request.body === null) return false;
  if (!Object.keys(request.headers).some((name) => BODY_CHECKSUM_HEADER.test(name))) return false;
  return request.protocol === 'https:' || isLoopbackHost(request.hostname);
}

/**
 * Sends `x-amz-content-sha256: UNSIGNED-PAYLOAD` where `mayLeavePayloadUnsigned` allows it, so the
 * signer does not hash every part with SHA-256 on top of the checksums (S3 accepts UNSIGNED-PAYLOAD
 * with SigV4 header signing; the signer takes an existing header as the payload hash). The headers,
 * checksums included, stay signed. Runs just before signing, after the SDK's own checksum step, on
 * every attempt.
 */
function skipPayloadHashWhenChecksummed(s3: S3Client): void {
  const middleware: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
    (next, context) => async (args) => {
      const request: unknown = args.request;
      if (isSignableRequest(request) && mayLeavePayloadUnsigned(context.commandName, request)) {
        request.headers['x-amz-content-sha256'] = UNSIGNED_PAYLOAD;
      }
      return next(args);
    };
  s3.middlewareStack.addRelativeTo(middleware, {
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    name: 'unsignedPayloadWhenChecksummed',
    override: true,
  });
}

export function createSqsClient(opts: ClientOptions = {}): SQSClient {
  return new SQSClient({
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.region ? { region: opts.region } : opts.endpoint ? { region: 'us-east-1' } : {}),
  });
}
