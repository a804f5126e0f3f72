import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { S3DownloadSigner } from '../../shared/archive/s3-archive-store.js';
import { createDocumentClient, createS3Client } from '../../shared/platform/aws-clients.js';
import type { LookupConfig } from '../../shared/contracts/lambda-environment.js';
import { DynamoDbFileIndex } from '../../shared/index/dynamodb-file-index.js';
import type { Log } from '../../shared/platform/telemetry.js';
import { createLookupHandler } from '../../shared/lookup/lookup-http.js';

/** Builds the lookup handler from validated configuration; shared by the Lambda and the local stack. */
export function createLookupRuntime(config: LookupConfig, log: Log): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  return createLookupHandler({
    index: new DynamoDbFileIndex(createDocumentClient({ endpoint: config.LOCAL_DYNAMODB_ENDPOINT }), config.INDEX_TABLE),
    downloads: new S3DownloadSigner(createS3Client({ endpoint: config.LOCAL_S3_ENDPOINT })),
    presignTtlSeconds: config.PRESIGN_TTL_SECONDS,
    log,
  });
}
