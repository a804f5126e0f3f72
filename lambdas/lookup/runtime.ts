import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import { exportBagLinks, S3DownloadSigner } from '../../shared/archive/s3-download-links.js';
import { createS3UrlSigner } from '../../shared/archive/s3-url-signer.js';
import type { S3UrlSigner } from '../../shared/archive/s3-url-signer.js';
import { createDocumentClient } from '../../shared/platform/dynamodb-client.js';
import { DynamoDbMatterStore } from '../../shared/index/dynamodb-holds.js';
import { DynamoDbFixityRecords } from '../../shared/index/dynamodb-fixity.js';
import type { LookupConfig } from '../../shared/contracts/lambda-environment.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import { DynamoDbUpstreamDeletions } from '../../shared/index/dynamodb-upstream-deletions.js';
import { DynamoDbDiscoveryStore } from '../../shared/index/dynamodb-discovery-store.js';
import { DynamoDbAccessTrail } from '../../shared/index/dynamodb-access-trail.js';
import { DynamoDbFileSearch } from '../../shared/index/dynamodb-file-search.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { createLookupHandler } from '../../shared/lookup/lookup-http.js';
import type { ExportRequests } from '../../shared/export/export-requests.js';
import { DynamoDbExportJobs } from '../../shared/index/dynamodb-export-jobs.js';
import type * as RareRoutes from './rare-routes.js';
import type { RareRouteParts } from './rare-routes.js';
import { RARE_ROUTES_BUNDLE } from './rare-routes-file.js';

/**
 * The lookup function's AWS access. Made at cold start: the DynamoDB client, and the signer of
 * presigned downloads (no S3 client: shared/archive/s3-url-signer.ts), which is all most requests
 * need. Made on the first request that needs them, once per container: the S3 and SQS clients of
 * the holds, exports and fixity routes (lambdas/lookup/rare-routes.ts).
 */
export interface LookupClients {
  doc: DynamoDBDocumentClient;
  urls: S3UrlSigner;
  /** The rare routes' clients and ports, loaded on the first call; the same promise on every later call. */
  rare(): Promise<RareRouteParts>;
  /** Closes the clients made so far. */
  destroy(): void;
}

export interface LookupClientOptions {
  /** S3 access other than the environment's (a test's RADOS gateway user): the signer's and the client's. */
  s3?: { region?: string; credentials?: AwsCredentialIdentity };
  /** Told of each client and of the URL signer when it is made (tests record their calls). */
  onClient?: (client: DynamoDBDocumentClient | S3UrlSigner | S3Client | SQSClient) => void;
}

/**
 * The rare routes' module: in Lambda its own file beside the bundle (RARE_ROUTES_BUNDLE, built by the
 * CDK: infra/constructs/archiver-function.ts, bundlingWithLazyModules); run from the sources (the
 * local stack, the tests), the TypeScript module. A computed specifier, so esbuild leaves the import
 * to run time instead of bundling the module into index.mjs.
 */
const RARE_ROUTES_MODULE = import.meta.url.endsWith('.mjs') ? `./${RARE_ROUTES_BUNDLE}` : './rare-routes.js';

/** The lookup function's AWS clients, as configured (SDK defaults in AWS, the endpoint overrides locally). */
export function createLookupClients(config: LookupConfig, options: LookupClientOptions = {}): LookupClients {
  const doc = createDocumentClient({ endpoint: config.LOCAL_DYNAMODB_ENDPOINT });
  const urls = createS3UrlSigner({
    endpoint: config.LOCAL_S3_ENDPOINT,
    region: options.s3?.region,
    credentials: options.s3?.credentials,
  });
  options.onClient?.(doc);
  options.onClient?.(urls);
  let rare: Promise<RareRouteParts> | undefined;
  return {
    doc,
    urls,
    rare: () => {
      rare ??= (import(RARE_ROUTES_MODULE) as Promise<typeof RareRoutes>).then(
        (m) => m.createRareRouteParts(config, options),
        (err: unknown) => {
          rare = undefined;
          throw err;
        },
      );
      return rare;
    },
    destroy() {
      doc.destroy();
      void rare?.then(
        (parts) => {
          parts.s3.destroy();
          parts.sqs.destroy();
        },
        () => undefined,
      );
    },
  };
}

/**
 * Builds the lookup handler from validated configuration; shared by the Lambda and the local stack.
 * `clients` (from createLookupClients) lets a caller that observes their calls pass them in.
 */
export function createLookupRuntime(
  config: LookupConfig,
  log: Log,
  clients: LookupClients = createLookupClients(config),
): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const ledger = new DynamoDbDiscoveryStore(clients.doc, config.INDEX_TABLE);
  const deletions = new DynamoDbUpstreamDeletions(clients.doc, config.INDEX_TABLE);
  const matters = new DynamoDbMatterStore(clients.doc, config.INDEX_TABLE);
  return createLookupHandler({
    index: new DynamoDbFileIndex(clients.doc, config.INDEX_TABLE),
    discovery: {
      listLedger: (source, limit, cursor) => ledger.listLedger(source, limit, cursor),
      getUpstreamDeletions: (ids) => deletions.getUpstreamDeletions(ids),
    },
    downloads: new S3DownloadSigner(clients.urls),
    search: new DynamoDbFileSearch(clients.doc, config.INDEX_TABLE),
    trail: new DynamoDbAccessTrail(clients.doc, config.INDEX_TABLE),
    exports: exportRequests(config, clients, matters),
    presignTtlSeconds: config.PRESIGN_TTL_SECONDS,
    holds: {
      matters,
      work: { send: async (bodies, signal, opts) => (await clients.rare()).holdWork.send(bodies, signal, opts) },
      releaseDelaySeconds: config.HOLD_RELEASE_DELAY_SECONDS,
      now: Date.now,
    },
    fixity: {
      copies: {
        head: async (copy, signal) => (await clients.rare()).copies.head(copy, signal),
        digest: async (copy, signal) => (await clients.rare()).copies.digest(copy, signal),
      },
      records: new DynamoDbFixityRecords(clients.doc, config.INDEX_TABLE),
      now: Date.now,
    },
    ...(config.CONSOLE_ORIGIN ? { corsOrigin: config.CONSOLE_ORIGIN } : {}),
    log,
  });
}

/** The export routes' port, when the deployment has exports (EXPORTS_BUCKET and EXPORT_QUEUE_URL). */
function exportRequests(
  config: LookupConfig,
  clients: LookupClients,
  matters: DynamoDbMatterStore,
): ExportRequests | undefined {
  const { EXPORTS_BUCKET: bucket, EXPORT_QUEUE_URL: queueUrl } = config;
  if (!bucket || !queueUrl) return undefined;
  return {
    jobs: new DynamoDbExportJobs(clients.doc, config.INDEX_TABLE),
    queue: { send: async (message) => (await clients.rare()).exportQueue(queueUrl).send(message) },
    presignBag: exportBagLinks(clients.urls, bucket),
    // A matter id takes the legal-hold matter's files (a GetItem of the matter; 404 when none).
    matters: (matterId) => matters.get(matterId),
  };
}
