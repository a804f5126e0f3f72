import { PutObjectLegalHoldCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { HeldVersion, LegalHoldSwitch } from '../holds/ports.js';

/**
 * S3 Object Lock legal holds, one exact version at a time (VersionId from the record). A legal hold
 * keeps a version from being deleted or overwritten until it is removed, whatever its retention
 * period, and even a caller allowed s3:BypassGovernanceRetention cannot delete it; placing and
 * removing one takes s3:PutObjectLegalHold (reading one, s3:GetObjectLegalHold, is not needed here)
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html#object-lock-legal-holds).
 * PutObjectLegalHold requires a body checksum, which the SDK adds (the operation is marked
 * checksum-required, so even the clients' WHEN_REQUIRED setting sends it).
 */
export class S3LegalHolds implements LegalHoldSwitch {
  constructor(private readonly s3: S3Client) {}

  async set(version: HeldVersion, on: boolean, signal?: AbortSignal): Promise<void> {
    await this.s3.send(
      new PutObjectLegalHoldCommand({
        Bucket: version.bucket,
        Key: version.key,
        ...(version.versionId ? { VersionId: version.versionId } : {}),
        LegalHold: { Status: on ? 'ON' : 'OFF' },
      }),
      signal ? { abortSignal: signal } : {},
    );
  }
}

/**
 * For the local emulators only (s3rver answers the legal-hold subresource NotImplemented; fauxqs has
 * no Object Lock): the holds are recorded on the index and nothing is asked of S3. Chosen by
 * LOCAL_S3_WITHOUT_OBJECT_LOCK, which the infrastructure cannot set (local-only variables).
 */
export class NoObjectLockLegalHolds implements LegalHoldSwitch {
  set(): Promise<void> {
    return Promise.resolve();
  }
}
