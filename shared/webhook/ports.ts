/**
 * What the webhook use case needs from the outside world. The use case (accept-event.ts) and the HTTP
 * mapping (webhook-http.ts) import these shapes only, never an AWS SDK; the adapters
 * (shared/index/dynamodb-replay-guard.ts, shared/platform/sqs-job-sender.ts, and
 * chat-fan-out.ts over discovery's listing client) and in-memory fakes in unit tests implement them.
 */
import type { WebhookAccepted } from '../contracts/webhook.js';

/** The secrets a signature may be made with right now. */
export interface WebhookSecrets {
  /**
   * The current secret first and, while a rotation is under way, the previous one: a signature by
   * either is accepted. Throws when the secret cannot be read or is not a valid secret document.
   */
  active(): Promise<readonly string[]>;
}

/** What a processed delivery is remembered by: enough to answer a duplicate exactly as the original. */
export type StoredOutcome = Omit<WebhookAccepted, 'webhookId' | 'duplicate'>;

export type ReplayClaim =
  /** This delivery owns the id: process it, then `complete` or `release` with the token. */
  | { kind: 'claimed'; token: string }
  /** The id was processed inside the replay window: answer with the stored outcome, do nothing. */
  | { kind: 'duplicate'; outcome: StoredOutcome }
  /** Another delivery of the same id is being processed now. */
  | { kind: 'in_progress'; retryAfterSeconds: number }
  /** The id was claimed (done, or in progress) with another body: a new event that reuses an id. */
  | { kind: 'body_mismatch' };

/**
 * Remembers webhook ids. Every write is a single conditional put, so the guard is correct on a store
 * that never expires items (dynalite) as on one that does (DynamoDB TTL deletes late, if at all):
 * expiry is decided by comparing a stored time with now, never by an item's absence.
 */
export interface ReplayGuard {
  /**
   * Claims the id for this delivery. `bodySha256` (hex) is stored with the claim: a later delivery
   * of the same id with another body is `body_mismatch`, never a silent duplicate.
   */
  claim(webhookId: string, nowMs: number, bodySha256?: string): Promise<ReplayClaim>;
  /** Records the outcome; a later delivery of the id is a duplicate until the window ends. */
  complete(webhookId: string, token: string, outcome: StoredOutcome, nowMs: number, bodySha256?: string): Promise<void>;
  /** Gives the id up after a failure, so that the sender's retry is processed, not called a duplicate. */
  release(webhookId: string, token: string, nowMs: number): Promise<void>;
}

/** Sends ingest job bodies; resolves only once the queue accepted every one of them (discovery's port). */
export type { JobSender } from '../discovery/ports.js';

/** The discovery use case for one chat: list its messages, enqueue one ingest job per file. */
export interface ChatFanOut {
  /**
   * Resolves once every job was accepted by the queue, with how many there were; `found: false` when
   * upstream has no such chat; `queued: true` when the reading could not finish now and was left,
   * checkpointed under `webhookId`, for the chat poller to finish. Throws when upstream or the queue
   * fails and nothing could be left to finish later (the caller answers "retry").
   */
  enqueueChatFiles(
    chatId: string,
    reason: string | undefined,
    signal: AbortSignal,
    webhookId?: string,
  ): Promise<{ found: true; jobs: number; queued?: true } | { found: false }>;
}
