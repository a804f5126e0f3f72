/**
 * What the lookup's rare routes need of S3 and SQS: the hold sweeps' queue (POST and DELETE
 * /holds), the export queue (POST /exports) and the stored copies a fixity check reads (POST
 * /files/{fileId}/verify). Deployed, this module is a file of its own beside the lookup's bundle
 * (lambdas/lookup/rare-routes-file.ts), which lambdas/lookup/runtime.ts imports on the first request
 * that needs it: a container that serves only reads never loads the S3 and SQS clients, about a
 * third of what the function's code would otherwise parse and run at every cold start. Nothing may
 * import it statically (only its types), or the clients land in index.mjs again.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { S3StoredCopies } from '../../shared/archive/s3-stored-copies.js';
import type { ExportRequests } from '../../shared/export/export-requests.js';
import type { StoredCopies } from '../../shared/fixity/check-copy.js';
import type { HoldWorkSender } from '../../shared/holds/ports.js';
import type { LookupConfig } from '../../shared/contracts/lambda-environment.js';
import { createS3Client, createSqsClient } from '../../shared/platform/s3-sqs-clients.js';
import { createSqsJobSender } from '../../shared/platform/sqs-job-sender.js';
import { createSqsExportQueue } from '../../shared/platform/sqs-export-queue.js';
import type { LookupClientOptions } from './runtime.js';

export interface RareRouteParts {
  s3: S3Client;
  sqs: SQSClient;
  holdWork: HoldWorkSender;
  copies: StoredCopies;
  exportQueue(queueUrl: string): ExportRequests['queue'];
}

/** The S3 and SQS clients (configured as createS3Client and createSqsClient configure them) and the ports on them. */
export function createRareRouteParts(config: LookupConfig, options: LookupClientOptions): RareRouteParts {
  const s3 = createS3Client({
    endpoint: config.LOCAL_S3_ENDPOINT,
    region: options.s3?.region,
    credentials: options.s3?.credentials,
  });
  const sqs = createSqsClient({ endpoint: config.LOCAL_SQS_ENDPOINT });
  options.onClient?.(s3);
  options.onClient?.(sqs);
  return {
    s3,
    sqs,
    holdWork: createSqsJobSender(sqs, config.HOLD_WORK_QUEUE_URL, { maxAttempts: 2 }),
    copies: new S3StoredCopies(s3),
    exportQueue: (queueUrl) => createSqsExportQueue(sqs, queueUrl),
  };
}
