import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { S3DownloadSigner } from '../../shared/archive/s3-archive-store.js';
import { createDocumentClient, createS3Client } from '../../shared/platform/aws-clients.js';
import type { LookupConfig } from '../../shared/contracts/lambda-environment.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import { UpstreamDeletionIndex } from '../../shared/index/dynamodb-upstream-deletions.js';
import { DynamoDbDiscoveryStore } from '../../shared/discovery/dynamodb-discovery-store.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { createLookupHandler } from '../../shared/lookup/lookup-http.js';

/** Builds the lookup handler from validated configuration; shared by the Lambda and the local stack. */
export function createLookupRuntime(config: LookupConfig, log: Log): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const doc = createDocumentClient({ endpoint: config.LOCAL_DYNAMODB_ENDPOINT });
  const ledger = new DynamoDbDiscoveryStore(doc, config.INDEX_TABLE);
  const deletions = new UpstreamDeletionIndex(doc, config.INDEX_TABLE);
  return createLookupHandler({
    index: new DynamoDbFileIndex(doc, config.INDEX_TABLE),
    discovery: {
      listLedger: (source, limit, cursor) => ledger.listLedger(source, limit, cursor),
      getUpstreamDeletions: (ids) => deletions.getUpstreamDeletions(ids),
    },
    downloads: new S3DownloadSigner(createS3Client({ endpoint: config.LOCAL_S3_ENDPOINT })),
    presignTtlSeconds: config.PRESIGN_TTL_SECONDS,
    log,
  });
}
