import type { Dispatcher } from 'undici';
import * as z from '../contracts/zod.js';
import { UpstreamContractError } from '../platform/errors.js';
import { createUpstreamGet } from './upstream-request.js';
import type { UpstreamRequestOptions } from './upstream-request.js';
import {
  ActivityPageSchema,
  ActivitySchema,
  ChatListPageSchema,
  ChatMessageSchema,
  ChatMessagesPageSchema,
  ChatSummarySchema,
  checkItems,
  FilesApiListItemSchema,
  FilesApiListPageSchema,
  MessageGeneratedFileSchema,
  MessageUploadedFileSchema,
  MessageArtifactSchema,
  ownerProvenance,
  ProjectAttachmentPageSchema,
  ProjectAttachmentSchema,
  ProjectListPageSchema,
  ProjectSchema,
} from './listing-schemas.js';
import type { JobProvenance } from '../contracts/job.js';
import type {
  Activity,
  ChatSummary,
  FilesApiListItem,
  MessageGeneratedFile,
  MessageUploadedFile,
  MessageArtifact,
  Project,
  ProjectAttachment,
} from './listing-schemas.js';

/**
 * One page of a listing, validated; `invalid` counts items that did not match their schema.
 * `lastId` is where the next page starts: the cursor (`last_id`) of cursor listings, the `next_page`
 * token of page-token listings (projects, attachments).
 */
export interface ListingPage<T> {
  items: T[];
  invalid: number;
  hasMore: boolean;
  lastId: string | null;
  requestId: string | undefined;
}

/** A page-token listing's query: `page` is the previous answer's `next_page`. */
export interface PageTokenQuery {
  page?: string | undefined;
  /** Upstream accepts 1-100. */
  limit: number;
}

/** The projects listing's query: paging, and optionally only projects changed since a time. */
export interface ProjectsQuery extends PageTokenQuery {
  /** `updated_at.gte`: only projects whose `updated_at` is at or after this time (RFC 3339). */
  updatedAtGte?: string | undefined;
}

export interface ChatMessage {
  id: string;
  createdAt: string | null;
  uploaded: MessageUploadedFile[];
  generated: MessageGeneratedFile[];
  /** Versions of artifacts written or updated in the message (absent: none read). */
  artifacts?: MessageArtifact[];
}

export interface ChatMessagesPage extends ListingPage<ChatMessage> {
  chatDeletedAt: string | null;
  /** What the page says of the chat's creator, organization and project (only what it says). */
  chatProvenance: JobProvenance;
}

/** A bounded walk of chats ordered by `created_at` (the backfill's listing), optionally for some users only. */
export interface ChatSearch {
  afterId?: string | undefined;
  /** Inclusive lower and exclusive upper bounds on the chats' `created_at`. */
  createdAtGte?: string | undefined;
  createdAtLt?: string | undefined;
  /** Upstream accepts at most 10 per request. */
  userIds?: readonly string[] | undefined;
  limit: number;
}

export interface ActivityQuery {
  afterId?: string | undefined;
  /** Lower and upper bounds on `created_at` (inclusive lower, exclusive upper). */
  createdAtGte?: string | undefined;
  createdAtLt: string;
  types: readonly string[];
  limit: number;
}

/** The listing endpoints of the Compliance API and the Files API that discovery pages through. */
export interface ListingClient {
  /** Chats org-wide ordered by `updated_at`, after `afterId`. */
  listChats(
    query: { afterId?: string | undefined; limit: number },
    signal: AbortSignal,
  ): Promise<ListingPage<ChatSummary>>;
  /**
   * Chats ordered by `created_at` within bounds and for users (`order_by=created_at`; `updated_at` is org-wide only).
   */
  searchChats(query: ChatSearch, signal: AbortSignal): Promise<ListingPage<ChatSummary>>;
  /** A chat's messages in ascending order, after `afterId`. */
  listChatMessages(
    chatId: string,
    query: { afterId?: string | undefined; limit: number },
    signal: AbortSignal,
  ): Promise<ChatMessagesPage>;
  /** The activity feed in ascending order. */
  listActivities(query: ActivityQuery, signal: AbortSignal): Promise<ListingPage<Activity>>;
  /** Projects of every organization the key reads, ascending by `created_at`. */
  listProjects(query: ProjectsQuery, signal: AbortSignal): Promise<ListingPage<Project>>;
  /** The files and documents attached to a project, ascending by `created_at` (ties by id). */
  listProjectAttachments(
    projectId: string,
    query: PageTokenQuery,
    signal: AbortSignal,
  ): Promise<ListingPage<ProjectAttachment>>;
  /** Files API files of the configured key (beta header), after `afterId`. */
  listFiles(
    query: { afterId?: string | undefined; limit: number },
    signal: AbortSignal,
  ): Promise<ListingPage<FilesApiListItem>>;
}

/** How requests are sent (headers, gate, errors): upstream-request.ts, shared with the ingest client. */
export type ListingClientOptions = UpstreamRequestOptions & {
  /** The largest listing page read (default 32 MiB); a larger one is refused, read no further than this. */
  maxListingBytes?: number;
};

const MAX_LISTING_BYTES = 32 * 1024 * 1024;

/** Builds the listing client; it sends its requests as the ingest client does (upstream-request.ts). */
export function createListingClient(opts: ListingClientOptions): ListingClient {
  const get = createUpstreamGet(opts);
  const maxBytes = opts.maxListingBytes ?? MAX_LISTING_BYTES;

  async function getJson<S extends z.core.$ZodType>(
    path: string,
    query: [string, string][],
    schema: S,
    signal: AbortSignal,
  ): Promise<{ body: z.infer<S>; requestId: string | undefined }> {
    const { res, requestId } = await get(path, query, signal);
    let json: unknown;
    try {
      json = JSON.parse(await readCapped(res.body, maxBytes, path));
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof UpstreamContractError) throw err;
      throw new UpstreamContractError(`listing ${path} is not JSON`, err);
    }
    const parsed = z.safeParse(schema, json);
    if (!parsed.success) {
      const fields = parsed.error.issues.map((i) => i.path.join('.') || 'body').join(', ');
      throw new UpstreamContractError(`listing ${path} does not match the documented shape (${fields.slice(0, 300)})`);
    }
    return { body: parsed.data, requestId };
  }

  const cursorQuery = (q: { afterId?: string | undefined; limit: number }): [string, string][] => [
    ['limit', String(q.limit)],
    ...(q.afterId ? ([['after_id', q.afterId]] as [string, string][]) : []),
  ];

  const pageTokenQuery = (q: PageTokenQuery): [string, string][] => [
    ['limit', String(Math.min(100, Math.max(1, q.limit)))],
    ...(q.page ? ([['page', q.page]] as [string, string][]) : []),
  ];

  return {
    async listChats(q, signal) {
      const { body, requestId } = await getJson(
        '/v1/compliance/apps/chats',
        [['order_by', 'updated_at'], ...cursorQuery(q)],
        ChatListPageSchema,
        signal,
      );
      return {
        ...checkItems(ChatSummarySchema, body.data),
        hasMore: body.has_more,
        lastId: body.last_id ?? null,
        requestId,
      };
    },

    async searchChats(q, signal) {
      const query: [string, string][] = [['order_by', 'created_at'], ...cursorQuery(q)];
      if (q.createdAtGte) query.push(['created_at.gte', q.createdAtGte]);
      if (q.createdAtLt) query.push(['created_at.lt', q.createdAtLt]);
      for (const id of q.userIds ?? []) query.push(['user_ids[]', id]);
      const { body, requestId } = await getJson('/v1/compliance/apps/chats', query, ChatListPageSchema, signal);
      return {
        ...checkItems(ChatSummarySchema, body.data),
        hasMore: body.has_more,
        lastId: body.last_id ?? null,
        requestId,
      };
    },

    async listChatMessages(chatId, q, signal) {
      const path = `/v1/compliance/apps/chats/${encodeURIComponent(chatId)}/messages`;
      const { body, requestId } = await getJson(
        path,
        [['order', 'asc'], ...cursorQuery(q)],
        ChatMessagesPageSchema,
        signal,
      );
      if (body.id !== chatId) throw new UpstreamContractError('messages answer is for another chat');
      const messages = checkItems(ChatMessageSchema, body.chat_messages);
      let invalid = messages.invalid;
      const items = messages.items.map((m): ChatMessage => {
        const uploaded = checkItems(MessageUploadedFileSchema, m.files);
        const generated = checkItems(MessageGeneratedFileSchema, m.generated_files);
        const artifacts = checkItems(MessageArtifactSchema, m.artifacts);
        invalid += uploaded.invalid + generated.invalid + artifacts.invalid;
        return {
          id: m.id,
          createdAt: m.created_at ?? null,
          uploaded: uploaded.items,
          generated: generated.items,
          artifacts: artifacts.items,
        };
      });
      return {
        items,
        invalid,
        hasMore: body.has_more,
        lastId: body.last_id ?? null,
        requestId,
        chatDeletedAt: body.deleted_at ?? null,
        chatProvenance: ownerProvenance(body),
      };
    },

    async listActivities(q, signal) {
      const query: [string, string][] = [
        ['order', 'asc'],
        ['limit', String(q.limit)],
        ['created_at.lt', q.createdAtLt],
        ...q.types.map((t): [string, string] => ['activity_types[]', t]),
      ];
      if (q.afterId) query.push(['after_id', q.afterId]);
      else if (q.createdAtGte) query.push(['created_at.gte', q.createdAtGte]);
      const { body, requestId } = await getJson('/v1/compliance/activities', query, ActivityPageSchema, signal);
      return {
        ...checkItems(ActivitySchema, body.data),
        hasMore: body.has_more,
        lastId: body.last_id ?? null,
        requestId,
      };
    },

    async listProjects(q, signal) {
      const { body, requestId } = await getJson(
        '/v1/compliance/apps/projects',
        [...pageTokenQuery(q), ...(q.updatedAtGte ? ([['updated_at.gte', q.updatedAtGte]] as [string, string][]) : [])],
        ProjectListPageSchema,
        signal,
      );
      return {
        ...checkItems(ProjectSchema, body.data),
        hasMore: body.has_more,
        lastId: body.next_page ?? null,
        requestId,
      };
    },

    async listProjectAttachments(projectId, q, signal) {
      const path = `/v1/compliance/apps/projects/${encodeURIComponent(projectId)}/attachments`;
      const { body, requestId } = await getJson(path, pageTokenQuery(q), ProjectAttachmentPageSchema, signal);
      return {
        ...checkItems(ProjectAttachmentSchema, body.data),
        hasMore: body.has_more,
        lastId: body.next_page ?? null,
        requestId,
      };
    },

    async listFiles(q, signal) {
      const { body, requestId } = await getJson('/v1/files', cursorQuery(q), FilesApiListPageSchema, signal);
      return {
        ...checkItems(FilesApiListItemSchema, body.data),
        hasMore: body.has_more,
        lastId: body.last_id ?? null,
        requestId,
      };
    },
  };
}

/**
 * Reads a listing body up to `maxBytes` and stops there: a larger page is refused after at most
 * `maxBytes` (plus one chunk) were buffered, never read whole first. The connection is destroyed.
 */
async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number, path: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > maxBytes) {
      body.destroy();
      throw new UpstreamContractError(`listing ${path} is larger than ${maxBytes} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
