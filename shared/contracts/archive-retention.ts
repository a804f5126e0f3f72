/**
 * The archive bucket's default S3 Object Lock retention when a deployment names none
 * (infra/deployment-config.ts: archiver:retentionMode / archiver:retentionDays). Here, outside infra/,
 * so that `npm start` on the RADOS Gateway (local/start.ts) locks its bucket the same way without
 * loading the CDK.
 */
export const DEFAULT_ARCHIVE_RETENTION = { mode: 'GOVERNANCE', days: 2557 } as const;

export type ArchiveRetentionMode = 'GOVERNANCE' | 'COMPLIANCE';

export interface ArchiveRetention {
  mode: ArchiveRetentionMode;
  days: number;
}
