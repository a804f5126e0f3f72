/**
 * Fixity: a re-proof that an archived copy is still the bytes the record describes, recorded as a
 * PREMIS-style event ("fixity check": when, how, with what tool, the outcome and its detail) on the
 * record itself, so a lookup shows the last checks without trusting the index alone.
 */

/**
 * `cheap`: HeadObject of the exact version with ChecksumMode ENABLED: the version exists, its size,
 * and the full-object CRC-32 S3 keeps with it, against the record (no object bytes read).
 * `deep`: the exact version read and its MD5 and SHA-256 recomputed against the record.
 */
export type FixityTier = 'cheap' | 'deep';
export const FIXITY_TIERS = ['cheap', 'deep'] as const;

export interface FixityEvent {
  eventType: 'fixity check';
  at: string;
  tier: FixityTier;
  /** What did the check, and its version (the S3 operation, or the hashing runtime). */
  tool: string;
  toolVersion: string;
  outcome: 'passed' | 'failed';
  /** What was compared and, on failure, what differed; safe to show an auditor. */
  detail: string;
  /** The version checked (the record's). */
  versionId: string | null;
}

/** The latest outcome, kept beside the events so a search can filter on it. */
export interface FixitySummary {
  status: 'passed' | 'failed';
  lastCheckedAt: string;
  lastTier: FixityTier;
  /** Checks made so far (every one, including those no longer in the events). */
  checks: number;
}

/** The events a record keeps (the newest); older ones are in the function's logs. */
export const MAX_FIXITY_EVENTS = 10;

/** Version of the check logic, recorded with each event: bump it when what a tier compares changes. */
export const FIXITY_TOOL_VERSION = '1';
