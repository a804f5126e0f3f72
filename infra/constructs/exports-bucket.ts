import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EXPORT_KEY_PREFIX } from '../../shared/contracts/exports.js';

export interface ExportsBucketProps {
  /** Deterministic (naming.ts exportsBucketName), so the service stack grants on it without a cross-stack token. */
  readonly bucketName: string;
  /** The archive key: a bag holds archived bytes, so it is protected as they are. */
  readonly encryptionKey: kms.IKey;
  /** The archive bucket's server access log bucket: who downloaded a bag is logged beside who read the archive. */
  readonly accessLogsBucket: s3.IBucket;
  /** Bags (and their work files) are deleted this many days after they were written. */
  readonly expireAfterDays: number;
}

/**
 * The eDiscovery exports' own bucket. Not the archive bucket: its Object Lock default retention would
 * bind every bag and checkpoint for years, and a bag is a copy made for one production, not a record.
 * KMS with the archive key, no public access, TLS only, access logs, versioned (a bag or checkpoint
 * overwritten or deleted by mistake can be restored until it expires); bags expire after
 * `expireAfterDays`, the versions a checkpoint rewrite leaves behind a day after they were replaced,
 * and an abandoned multipart upload (an export that failed for good) is removed after a week, long
 * enough for the export to be resumed first. Lifecycle expiration of a versioned bucket adds a delete
 * marker, and NoncurrentVersionExpiration removes the older versions:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configuration-examples.html
 */
export class ExportsBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ExportsBucketProps) {
    super(scope, id);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'exports-bucket/',
      lifecycleRules: [
        {
          id: 'ExpireExports',
          prefix: EXPORT_KEY_PREFIX,
          expiration: Duration.days(props.expireAfterDays),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
