import * as z from './zod.js';
import { ChatIdSchema, FileIdSchema } from './ids.js';
import { ReasonSchema } from './job.js';

/**
 * The webhook ingress `POST /events`: what a caller sends and what it is told. Version 1.
 *
 *   { "v": 1, "fileIds": ["claude_gen_file_…"], "chatIds": ["claude_chat_…"], "reason": "…" }
 *
 * `v` is required (a caller must say which version it speaks); at least one id; unknown fields are
 * refused, so a typo such as `fileID` is an error instead of a silently empty request.
 */
export const WEBHOOK_EVENT_VERSION = 1;

/** The route, served by API Gateway, the local server and the OpenAPI document alike. */
export const WEBHOOK_ROUTE = { method: 'POST', resource: '/events' } as const;

/** Largest body accepted (bytes, as received); larger answers 413 before the signature is checked. */
export const MAX_WEBHOOK_BODY_BYTES = 64 * 1024;
/** File ids plus chat ids in one event (after removing repeats). */
export const MAX_WEBHOOK_IDS = 100;
/** Chat ids in one event: each costs upstream listing requests while the caller waits. */
export const MAX_WEBHOOK_CHATS = 10;

/** Header names of the Standard Webhooks scheme (lowercase; HTTP header names are case-insensitive). */
export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

export const WebhookEventSchema = z
  .pipe(
    z.strictObject({
      v: z.literal(WEBHOOK_EVENT_VERSION, { error: `must be ${WEBHOOK_EVENT_VERSION}` }),
      fileIds: z.optional(
        z
          .array(FileIdSchema)
          .check(z.maxLength(MAX_WEBHOOK_IDS, { message: `may hold at most ${MAX_WEBHOOK_IDS} ids` })),
      ),
      chatIds: z.optional(
        z
          .array(ChatIdSchema)
          .check(z.maxLength(MAX_WEBHOOK_CHATS, { message: `may hold at most ${MAX_WEBHOOK_CHATS} ids` })),
      ),
      reason: z.optional(ReasonSchema),
    }),
    z.transform((e) => ({
      v: e.v,
      // A repeated id is the same request twice: it is counted, enqueued and reported once.
      fileIds: [...new Set(e.fileIds ?? [])],
      chatIds: [...new Set(e.chatIds ?? [])],
      ...(e.reason === undefined ? {} : { reason: e.reason }),
    })),
  )
  .check(
    z.refine((e) => e.fileIds.length + e.chatIds.length > 0, { message: 'name at least one id in fileIds or chatIds' }),
  )
  .check(
    z.refine((e) => e.fileIds.length + e.chatIds.length <= MAX_WEBHOOK_IDS, {
      message: `name at most ${MAX_WEBHOOK_IDS} ids in all`,
    }),
  );
export type WebhookEvent = z.output<typeof WebhookEventSchema>;

/** One chat fanned out: how many ingest jobs its messages produced. */
export interface FannedOutChat {
  chatId: string;
  /** Jobs the queue accepted so far. */
  jobs: number;
  /**
   * The chat could not be read to its end within this request (upstream or the budget said wait, or
   * time ran out): the reading continues from where it stopped in the chat poller's next runs, with
   * the same reason. The delivery is done; do not send it again.
   */
  queued?: boolean | undefined;
}

/**
 * The 202 answer. A delivery whose `webhook-id` was already processed answers `duplicate: true` with
 * the first delivery's outcome and does nothing again.
 */
export interface WebhookAccepted {
  webhookId: string;
  duplicate: boolean;
  /** File ids whose ingest jobs the queue accepted. */
  fileIds: string[];
  /** Chats whose files were listed and enqueued. */
  chats: FannedOutChat[];
  /** Chats upstream does not have (never existed, or hard-deleted): nothing to enqueue. */
  chatsNotFound: string[];
  reason?: string;
}

/** The error body every non-2xx answer carries, like the lookup API's. */
export interface WebhookErrorBody {
  error: { type: WebhookErrorType; message: string };
}

/** Every `error.type` the endpoint (the function and API Gateway's own responses) may answer. */
export const WEBHOOK_ERROR_TYPES = [
  'invalid_request',
  'unauthorized',
  'not_found',
  'method_not_allowed',
  'conflict',
  'payload_too_large',
  'rate_limited',
  'service_unavailable',
  'internal_error',
] as const;
export type WebhookErrorType = (typeof WEBHOOK_ERROR_TYPES)[number];

/** Parses a body already known to be authentic; the message names the offending field or key, not its value. */
export function parseWebhookEvent(
  bytes: Uint8Array,
): { ok: true; event: WebhookEvent } | { ok: false; message: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return { ok: false, message: 'The body is not UTF-8 text.' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: 'The body is not valid JSON.' };
  }
  const parsed = WebhookEventSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (!issue) return { ok: false, message: 'The body is not a valid event.' };
    if (issue.code === 'unrecognized_keys') {
      return { ok: false, message: `Unknown field(s): ${issue.keys.map((k) => k.slice(0, 40)).join(', ')}.` };
    }
    const where = issue.path.length > 0 ? issue.path.join('.') : 'event';
    return { ok: false, message: `${where}: ${issue.message}` };
  }
  return { ok: true, event: parsed.data };
}
