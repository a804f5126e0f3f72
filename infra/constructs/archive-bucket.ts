import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ArchiveBucketProps {
  /** Physical name of the archive bucket (see naming.ts). */
  readonly bucketName: string;
  /** Customer-managed key for every archived object (SSE-KMS with an S3 Bucket Key). */
  readonly encryptionKey: kms.IKey;
  readonly retentionMode: 'GOVERNANCE' | 'COMPLIANCE';
  readonly retentionDays: number;
  /** Optional move to a colder storage class after N days. */
  readonly transition?:
    | { readonly afterDays: number; readonly storageClass: 'GLACIER_IR' | 'GLACIER' | 'DEEP_ARCHIVE' }
    | undefined;
  /** Browser origins that may read presigned downloads (the auditor console verifies them); none: no CORS. */
  readonly browserDownloadOrigins?: readonly string[];
}

/**
 * The WORM archive: versioned, Object Lock with a default retention, SSE-KMS with a customer-managed
 * key, no public access, TLS only, server access logs to a separate bucket. Both buckets are retained
 * when the stack is deleted (and Object Lock would refuse to delete locked versions anyway).
 */
export class ArchiveBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps) {
    super(scope, id);

    // Server access logs cannot be delivered to an SSE-KMS bucket, so this one uses SSE-S3. The log
    // delivery service writes through the bucket policy (feature flag serverAccessLogsUseBucketPolicy),
    // which is what allows BucketOwnerEnforced (ACLs disabled) here.
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      // Who read or wrote the archive is kept as long as the archive itself is.
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: Duration.days(props.retentionDays),
          noncurrentVersionExpiration: Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const retention =
      props.retentionMode === 'COMPLIANCE'
        ? s3.ObjectLockRetention.compliance(Duration.days(props.retentionDays))
        : s3.ObjectLockRetention.governance(Duration.days(props.retentionDays));

    const lifecycleRules: s3.LifecycleRule[] = [
      // A multipart upload abandoned by a crashed or timed-out invocation would otherwise be stored
      // (and billed) forever; the core retries from scratch, so a day is ample.
      { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ];
    if (props.transition) {
      lifecycleRules.push({
        id: 'TransitionToArchiveStorage',
        transitions: [
          {
            storageClass: storageClassOf(props.transition.storageClass),
            transitionAfter: Duration.days(props.transition.afterDays),
          },
        ],
      });
    }

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      // One data key per bucket instead of one KMS request per object and part: at 8 MiB parts a
      // 500 MB file would otherwise cost ~60 KMS calls to write and as many to read.
      bucketKeyEnabled: true,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: retention,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // The cast only bridges a library typing gap: Bucket's `isWebsite` getter returns
      // `boolean | undefined`, which IBucket's optional property rejects under
      // exactOptionalPropertyTypes. It is the same object.
      serverAccessLogsBucket: this.accessLogsBucket as s3.IBucket,
      // CORS only lets a page read what a presigned URL already grants: every GET still needs the
      // URL's signature, issued by the lookup API to a caller IAM allowed. GET and HEAD, no headers.
      // https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
      ...(props.browserDownloadOrigins?.length
        ? {
            cors: [
              {
                allowedOrigins: [...props.browserDownloadOrigins],
                allowedMethods: [s3.HttpMethods.GET, s3.HttpMethods.HEAD],
                maxAge: 600,
              },
            ],
          }
        : {}),
      serverAccessLogsPrefix: 'archive-bucket/',
      lifecycleRules,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

function storageClassOf(name: 'GLACIER_IR' | 'GLACIER' | 'DEEP_ARCHIVE'): s3.StorageClass {
  switch (name) {
    case 'GLACIER_IR':
      return s3.StorageClass.GLACIER_INSTANT_RETRIEVAL;
    case 'GLACIER':
      return s3.StorageClass.GLACIER;
    case 'DEEP_ARCHIVE':
      return s3.StorageClass.DEEP_ARCHIVE;
  }
}
