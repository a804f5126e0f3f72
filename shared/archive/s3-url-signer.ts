/**
 * Presigned S3 GetObject URLs made in process, without an S3 client: the lookup's downloads and
 * export bag links are its most frequent S3 work, and the S3 client (its model, protocol and
 * middleware) is the largest part of that function's cold start. The URL is the one the SDK's
 * presigner (`getSignedUrl` of @aws-sdk/s3-request-presigner over the client createS3Client makes)
 * gives for the same input, credentials and clock, built from the same SDK parts: the SigV4 signer
 * (@smithy/signature-v4, as S3 configures it: service `s3`, the path not escaped twice, the payload
 * `UNSIGNED-PAYLOAD`), its SHA-256, the URL formatter and the S3 endpoint rules' partition table.
 * test/unit/s3-url-signer.test.ts compares the two parameter for parameter.
 *
 * SigV4 query-string authentication: the credential scope, the signed `host` header and the
 * signature travel as X-Amz-* query parameters, X-Amz-Expires is at most 604800 seconds, and the
 * payload of a presigned request is `UNSIGNED-PAYLOAD`
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html). A URL signed
 * with temporary credentials (a Lambda role's) carries X-Amz-Security-Token and stops working when
 * they expire (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html).
 * S3 overrides the response's headers from `response-content-disposition` and
 * `response-content-type`, and serves `versionId` rather than the current version
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html). No other header is signed:
 * a GET of an SSE-KMS object names no key (S3 decrypts it with the signer's kms:Decrypt, and only
 * over SigV4: https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html), and
 * no `x-amz-checksum-mode` is asked for, as createS3Client configures the client (checksum
 * validation only when required).
 *
 * Addressing is as the S3 client's endpoint rules decide for a plain regional bucket
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html): virtual-hosted
 * (`https://bucket.s3.region.suffix/key`) when the name is a DNS label without dots, path-style
 * (`https://s3.region.suffix/bucket/key`) otherwise; with an endpoint override (the local servers,
 * s3rver and the RADOS gateway) always path-style on that endpoint, as createS3Client configures
 * (`forcePathStyle`). Not covered, because no deployment of this project uses them: FIPS and
 * dual-stack endpoints, transfer acceleration, access point ARNs and S3 Express directory buckets.
 */
import { formatUrl } from '@aws-sdk/core/util';
import { isVirtualHostableS3Bucket, partition } from '@aws-sdk/core/client';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { loadConfig, NODE_REGION_CONFIG_FILE_OPTIONS, NODE_REGION_CONFIG_OPTIONS } from '@smithy/core/config';
import { extendedEncodeURIComponent, HttpRequest } from '@smithy/core/protocols';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Provider } from '@smithy/types';

export interface S3UrlSignerOptions {
  /** The bucket's region, or how to find it (the SDK's region loader: AWS_REGION, then the profile). */
  region: string | Provider<string>;
  /** The signing credentials (in Lambda, the execution role's, from the environment). */
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** An endpoint override (a local server): path-style addressing on it. */
  endpoint?: string | undefined;
}

/** What a presigned GetObject names: the fields of GetObjectCommand the project uses. */
export interface GetObjectUrlInput {
  Bucket: string;
  Key: string;
  VersionId?: string | undefined;
  ResponseContentDisposition?: string | undefined;
  ResponseContentType?: string | undefined;
}

/** Sees each URL signed: the request S3 will authorize when it is used (tests record it as the signer's call). */
export type PresignListener = (call: { operation: 'GetObject'; input: GetObjectUrlInput }) => void;

export class S3UrlSigner {
  private readonly signer: SignatureV4;
  private readonly region: Provider<string>;
  private readonly endpoint: URL | undefined;
  private readonly listeners: PresignListener[] = [];

  constructor(options: S3UrlSignerOptions) {
    const { region } = options;
    this.region = typeof region === 'string' ? () => Promise.resolve(region) : region;
    this.endpoint = options.endpoint === undefined ? undefined : new URL(options.endpoint);
    // As S3RequestPresigner configures the signer for S3: no second escaping of the path, no payload hash.
    this.signer = new SignatureV4({
      service: 's3',
      region: this.region,
      credentials: options.credentials,
      sha256: Sha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  /** Adds a listener told of every URL signed from now on. */
  onPresign(listener: PresignListener): void {
    this.listeners.push(listener);
  }

  /** A URL that GETs the object (the given version, with the given response headers) for `expiresInSeconds`. */
  async presignGetObject(input: GetObjectUrlInput, expiresInSeconds: number, signingDate?: Date): Promise<string> {
    for (const listener of this.listeners) listener({ operation: 'GetObject', input });
    const region = await this.region();
    const { protocol, hostname, port, basePath } = this.locate(input.Bucket, region);
    const query: Record<string, string> = {};
    if (input.ResponseContentDisposition !== undefined)
      query['response-content-disposition'] = input.ResponseContentDisposition;
    if (input.ResponseContentType !== undefined) query['response-content-type'] = input.ResponseContentType;
    if (input.VersionId !== undefined) query['versionId'] = input.VersionId;
    // The operation marker the SDK's S3 serializer adds to every GetObject; S3 ignores it.
    query['x-id'] = 'GetObject';
    const request = new HttpRequest({
      method: 'GET',
      protocol,
      hostname,
      ...(port ? { port: Number(port) } : {}),
      // The key as the SDK serializes the `{Key+}` label: each segment percent-encoded, the slashes kept.
      path: `${basePath}/${input.Key.split('/').map(extendedEncodeURIComponent).join('/')}`,
      query,
      headers: {
        host: port ? `${hostname}:${port}` : hostname,
        // Hoisted into the query by the signer (X-Amz-Content-Sha256), as the SDK's presigner sends it.
        'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
      },
    });
    const signed = await this.signer.presign(request, {
      expiresIn: expiresInSeconds,
      signingRegion: region,
      unsignableHeaders: new Set(['content-type']),
      ...(signingDate ? { signingDate } : {}),
    });
    return formatUrl(signed);
  }

  /** Where the bucket is reached: its host, and the path the key follows. */
  private locate(
    bucket: string,
    region: string,
  ): { protocol: string; hostname: string; port: string; basePath: string } {
    if (this.endpoint) {
      const { protocol, hostname, port, pathname } = this.endpoint;
      const base = pathname.endsWith('/') ? pathname : `${pathname}/`;
      return { protocol, hostname, port, basePath: `${base}${encodeURIComponent(bucket)}` };
    }
    const suffix = partition(region).dnsSuffix;
    if (isVirtualHostableS3Bucket(bucket, false))
      return { protocol: 'https:', hostname: `${bucket}.s3.${region}.${suffix}`, port: '', basePath: '' };
    return {
      protocol: 'https:',
      hostname: `s3.${region}.${suffix}`,
      port: '',
      basePath: `/${encodeURIComponent(bucket)}`,
    };
  }
}

/**
 * The signer as createS3Client would sign (shared/platform/s3-sqs-clients.ts): with an endpoint override
 * the local servers' region and path-style addressing; otherwise the region the SDK's loader finds
 * (AWS_REGION, which Lambda sets) and the SDK's credential chain (in the Lambda bundles, the
 * environment's: shared/platform/lambda-credential-provider.ts).
 */
export function createS3UrlSigner(
  opts: {
    endpoint?: string | undefined;
    region?: string | undefined;
    credentials?: S3UrlSignerOptions['credentials'] | undefined;
  } = {},
): S3UrlSigner {
  const region =
    opts.region ??
    (opts.endpoint ? 'us-east-1' : loadConfig(NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS));
  return new S3UrlSigner({ region, credentials: opts.credentials ?? defaultProvider(), endpoint: opts.endpoint });
}
