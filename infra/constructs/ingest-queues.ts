import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { INGEST_VISIBILITY_TIMEOUT, QUEUE_RETENTION } from '../sizing.js';

export interface IngestQueuesProps {
  readonly encryptionKey: kms.IKey;
  /** Deliveries of one job before SQS moves it to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Default: the ingest function's (INGEST_VISIBILITY_TIMEOUT); the export queue passes its own. */
  readonly visibilityTimeout?: Duration;
}

/**
 * The ingest job queue and its dead-letter queue: SSE-KMS with a customer-managed key (job bodies
 * carry chat ids and file names), TLS enforced by queue policy, visibility timeout derived from the
 * ingest function's timeout.
 */
export class IngestQueues extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** Deliveries of one job before SQS moves it to the dead-letter queue; the ingest function is told it. */
  readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: IngestQueuesProps) {
    super(scope, id);
    this.maxReceiveCount = props.maxReceiveCount;
    const encryption = {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      // KMS is asked for a data key at most hourly per producer/consumer instead of every 5 minutes.
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    };
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...encryption,
      retentionPeriod: QUEUE_RETENTION,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...encryption,
      retentionPeriod: QUEUE_RETENTION,
      visibilityTimeout: props.visibilityTimeout ?? INGEST_VISIBILITY_TIMEOUT,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
