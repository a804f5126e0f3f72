/**
 * The listing endpoints of the local upstream, as docs/upstream-api-facts.md states them: chats org-wide
 * (`order_by=updated_at`, `after_id`), a chat's messages (paged), the activity feed and the Files API
 * listing; chats also by `created_at` with time bounds and `user_ids[]` (the CLI's backfill). Chats and messages are
 * derived from the upstream's files (generated files on assistant
 * messages, uploaded files on user messages), plus chat facts (soft deletion, extra updates) and
 * activities given here. Cursors behave as opaque: a `last_id` remembers where it was issued, so a
 * chat updated after its id was handed out as a cursor does not move the reader; the id of a chat
 * it serves but did not hand out (a cursor kept across a restart) reads on from that chat; any other
 * cursor answers 400.
 */
import {
  artifactMessageId,
  DEFAULT_CREATED_AT,
  generatedMessageId,
  publishedMd5,
  publishedSize,
  uploadMessageId,
  type FileCatalogue,
} from './catalogue.js';
import type { RouteContext } from './routes.js';
import { UpstreamProjects } from './projects.js';

const DEFAULT_USER_ID = 'user_01LocalSampleUser';

export interface ListingChatFacts {
  deletedAt?: string | null;
  /** Bumps `updated_at` beyond the newest message (a rename, say). */
  updatedAt?: string;
  /** The chat's owner, for `user_ids[]` filters (default user_01LocalSampleUser). */
  userId?: string;
  /** The chat's creator left the organization: `user` is null (its `userId` still filters). */
  creatorGone?: boolean;
  /** The project the chat belongs to (`project_id`; default null). */
  projectId?: string | null;
}

export interface ListingActivity {
  id: string;
  type: string;
  created_at: string;
  actor?: Record<string, unknown>;
  claude_file_id?: string;
  claude_chat_id?: string;
  claude_project_id?: string;
  claude_project_document_id?: string;
  filename?: string;
}

type ListingAnswer = { status: 200; body: unknown } | { status: 400 | 404; message: string };

interface Message {
  id: string;
  role: 'user' | 'assistant';
  created_at: string;
  content: { type: 'text'; text: string }[];
  files: Record<string, unknown>[] | null;
  generated_files: Record<string, unknown>[] | null;
  artifacts: Record<string, unknown>[] | null;
}

const ORG_UUID = '00000000-0000-4000-8000-000000000001';

export class UpstreamListings {
  private readonly chatFacts = new Map<string, ListingChatFacts>();
  private readonly activities: ListingActivity[] = [];
  /** Chat cursors handed out, `<order_by>|<chat id>` → the sort key the page ended at. */
  private readonly issued = new Map<string, string>();
  /** Projects, their attachments and documents (projects.ts). */
  readonly projects: UpstreamProjects;

  constructor(private readonly catalogue: FileCatalogue) {
    this.projects = new UpstreamProjects(catalogue);
  }

  setChat(chatId: string, facts: ListingChatFacts): void {
    this.chatFacts.set(chatId, { ...this.chatFacts.get(chatId), ...facts });
  }

  addActivities(...activities: ListingActivity[]): void {
    this.activities.push(...activities);
  }

  /** Answers a listing route: chats, a chat's messages, activities or the Files API listing. */
  serve(ctx: RouteContext, endpoint: 'chats' | 'messages' | 'activities' | 'files-list'): void {
    const query = new URL(ctx.exchange.req.url ?? '/', 'http://local').searchParams;
    const answer =
      endpoint === 'chats'
        ? this.listChats(query)
        : endpoint === 'messages'
          ? this.listMessages(ctx.id, query)
          : endpoint === 'activities'
            ? this.listActivities(query)
            : this.listFilesApi(query);
    if (answer.status === 200) ctx.exchange.sendJson(answer.body);
    else ctx.exchange.fail(answer.status, answer.message);
  }

  /** Every chat with its messages, derived from the files. */
  chats(): {
    id: string;
    created_at: string;
    updated_at: string;
    deleted_at: string | null;
    userId: string;
    projectId: string | null;
    creatorGone: boolean;
    messages: Message[];
  }[] {
    const byChat = new Map<string, Map<string, Message>>();
    const messageFor = (chatId: string, id: string, role: Message['role'], createdAt: string): Message => {
      const messages = byChat.get(chatId) ?? new Map<string, Message>();
      byChat.set(chatId, messages);
      let m = messages.get(id);
      if (!m) {
        m = {
          id,
          role,
          created_at: createdAt,
          content: [{ type: 'text', text: role === 'user' ? 'Here is the file.' : 'I made the file.' }],
          files: [],
          generated_files: [],
          artifacts: [],
        };
        messages.set(id, m);
      }
      return m;
    };
    for (const { file, digest } of this.catalogue.all()) {
      const createdAt = file.createdAt ?? DEFAULT_CREATED_AT;
      if (file.source === 'generated') {
        messageFor(file.chatId, generatedMessageId(file), 'assistant', createdAt).generated_files?.push({
          id: file.id,
          filename: file.filename,
          md5: publishedMd5(file, digest),
          mime_type: file.mimeType,
          size_bytes: publishedSize(file, digest),
        });
      } else if (file.source === 'artifact') {
        messageFor(file.chatId, artifactMessageId(file), 'assistant', createdAt).artifacts?.push({
          id: file.artifactId,
          version_id: file.id,
          title: file.filename,
          artifact_type: file.mimeType,
        });
      } else if (file.source === 'uploaded') {
        file.chatIds.forEach((chatId, i) => {
          messageFor(chatId, uploadMessageId(file, chatId, i), 'user', createdAt).files?.push({
            id: file.id,
            created_at: createdAt,
            filename: file.filename,
            md5: publishedMd5(file, digest),
            mime_type: file.mimeType,
            size_bytes: publishedSize(file, digest),
          });
        });
      }
    }
    return [...byChat.entries()].map(([id, messages]) => {
      const ordered = [...messages.values()].sort(
        (a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id),
      );
      // A message without files lists null arrays, as upstream may.
      for (const m of ordered) {
        if (m.files?.length === 0) m.files = null;
        if (m.generated_files?.length === 0) m.generated_files = null;
      }
      const facts = this.chatFacts.get(id) ?? {};
      const newest = ordered.at(-1)?.created_at ?? DEFAULT_CREATED_AT;
      const updatedAt = facts.updatedAt && facts.updatedAt > newest ? facts.updatedAt : newest;
      return {
        id,
        created_at: ordered[0]?.created_at ?? DEFAULT_CREATED_AT,
        updated_at: updatedAt,
        deleted_at: facts.deletedAt ?? null,
        userId: facts.userId ?? DEFAULT_USER_ID,
        projectId: facts.projectId ?? null,
        creatorGone: facts.creatorGone ?? false,
        messages: ordered,
      };
    });
  }

  private listChats(query: URLSearchParams): ListingAnswer {
    const orderBy = query.get('order_by') ?? 'created_at';
    if (orderBy !== 'created_at' && orderBy !== 'updated_at')
      return badRequest('order_by must be created_at or updated_at');
    const limit = clampLimit(query.get('limit'), 100, 1000);
    if (limit === undefined) return badRequest('limit must be 1-1000');
    const keyOf = (c: { id: string; created_at: string; updated_at: string }) =>
      `${orderBy === 'updated_at' ? c.updated_at : c.created_at}|${c.id}`;
    const userIds = query.getAll('user_ids[]');
    if (userIds.length > 10) return badRequest('user_ids[] takes at most 10 ids');
    if (userIds.length > 0 && orderBy === 'updated_at')
      return badRequest('order_by=updated_at is only for org-wide queries');
    const bounds = timeBounds(query, orderBy);
    if (typeof bounds === 'string') return badRequest(bounds);
    const chats = this.chats()
      .filter(
        (c) =>
          (userIds.length === 0 || userIds.includes(c.userId)) &&
          bounds(orderBy === 'updated_at' ? c.updated_at : c.created_at),
      )
      .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    let after = '';
    const afterId = query.get('after_id');
    if (afterId !== null) {
      // A cursor issued before this server started (npm start restarted on a kept data folder: the
      // chat poller's stored cursor) names a chat it serves: read on from that chat's place now.
      // One handed out under the other order only stays refused, as upstream refuses it.
      const otherOrder = orderBy === 'updated_at' ? 'created_at' : 'updated_at';
      const known = this.issued.has(`${otherOrder}|${afterId}`)
        ? undefined
        : this.chats().find((c) => c.id === afterId);
      const key = this.issued.get(`${orderBy}|${afterId}`) ?? (known ? keyOf(known) : undefined);
      if (key === undefined) return badRequest('after_id is not a valid cursor for this query');
      after = key;
    }
    const rest = chats.filter((c) => keyOf(c) > after);
    const page = rest.slice(0, limit);
    const last = page.at(-1);
    // Per order: the chat poller (updated_at) and a backfill (created_at) may both hold the same id.
    if (last) this.issued.set(`${orderBy}|${last.id}`, keyOf(last));
    return ok({
      data: page.map((c) => ({
        id: c.id,
        name: `Local chat ${c.id.slice('claude_chat_'.length)}`,
        created_at: c.created_at,
        updated_at: c.updated_at,
        deleted_at: c.deleted_at,
        href: `https://claude.ai/chat/${c.id}`,
        model: 'claude-sonnet-4-5',
        ...chatOwner(c),
      })),
      has_more: rest.length > page.length,
      first_id: page[0]?.id ?? null,
      last_id: last?.id ?? null,
    });
  }

  private listMessages(chatId: string, query: URLSearchParams): ListingAnswer {
    const chat = this.chats().find((c) => c.id === chatId);
    if (!chat) return { status: 404, message: 'No chat found with provided id, or it has already been deleted.' };
    const limit = clampLimit(query.get('limit'), chat.messages.length || 1, 1000);
    if (limit === undefined) return badRequest('limit must be 1-1000');
    let start = 0;
    const afterId = query.get('after_id');
    if (afterId !== null) {
      const index = chat.messages.findIndex((m) => m.id === afterId);
      if (index < 0) return badRequest('after_id is not a message of this chat');
      start = index + 1;
    }
    const page = chat.messages.slice(start, start + limit);
    return ok({
      id: chat.id,
      name: `Local chat ${chat.id.slice('claude_chat_'.length)}`,
      created_at: chat.created_at,
      updated_at: chat.updated_at,
      deleted_at: chat.deleted_at,
      ...chatOwner(chat),
      chat_messages: page,
      has_more: start + page.length < chat.messages.length,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
    });
  }

  private listActivities(query: URLSearchParams): ListingAnswer {
    const limit = clampLimit(query.get('limit'), 100, 5000);
    if (limit === undefined) return badRequest('limit must be 1-5000');
    const types = query.getAll('activity_types[]');
    const gte = query.get('created_at.gte');
    const lt = query.get('created_at.lt');
    const ordered = [...this.activities].sort(
      (a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id),
    );
    let start = 0;
    const afterId = query.get('after_id');
    if (afterId !== null) {
      // The last occurrence: a duplicated activity may sit twice in the feed.
      const index = ordered.map((a) => a.id).lastIndexOf(afterId);
      if (index < 0) return badRequest('after_id is not a valid cursor');
      start = index + 1;
    }
    const matching = ordered
      .slice(start)
      .filter(
        (a) =>
          (types.length === 0 || types.includes(a.type)) &&
          (gte === null || a.created_at >= gte) &&
          (lt === null || a.created_at < lt),
      );
    const page = matching.slice(0, limit);
    return ok({
      data: page.map((a) => ({
        organization_id: SAMPLE_ORG_ID,
        organization_uuid: ORG_UUID,
        actor: { type: 'user_actor', user_id: 'user_01LocalSampleUser' },
        ...a,
      })),
      has_more: matching.length > page.length,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
    });
  }

  private listFilesApi(query: URLSearchParams): ListingAnswer {
    const limit = clampLimit(query.get('limit'), 20, 1000);
    if (limit === undefined) return badRequest('limit must be 1-1000');
    // Newest first, as the Files API lists.
    const files = this.catalogue
      .all()
      .map((f) => f.file)
      .filter((f) => f.source === 'files_api')
      .sort(
        (a, b) =>
          (b.createdAt ?? DEFAULT_CREATED_AT).localeCompare(a.createdAt ?? DEFAULT_CREATED_AT) ||
          b.id.localeCompare(a.id),
      );
    let start = 0;
    const afterId = query.get('after_id');
    if (afterId !== null) {
      const index = files.findIndex((f) => f.id === afterId);
      if (index < 0) return badRequest('after_id is not a valid cursor');
      start = index + 1;
    }
    const page = files.slice(start, start + limit);
    return ok({
      data: page.map((f) => ({
        id: f.id,
        type: 'file',
        created_at: f.createdAt ?? DEFAULT_CREATED_AT,
        filename: f.filename,
        mime_type: f.mimeType,
        downloadable: f.source === 'files_api' ? f.downloadable : false,
      })),
      has_more: start + page.length < files.length,
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
    });
  }
}

/** The organization the sample upstream's data belongs to (`org_…` id and UUID). */
export const SAMPLE_ORG_ID = 'org_01Local';

/** A user as upstream lists one: `{id, email_address}` (the address derived from the id). */
export function sampleUser(userId: string): { id: string; email_address: string } {
  return { id: userId, email_address: `${userId.slice('user_'.length).toLowerCase()}@example.com` };
}

/** Who and where of a chat, as the chats listing and the messages page send them. */
function chatOwner(c: { userId: string; projectId: string | null; creatorGone: boolean }) {
  return {
    organization_id: SAMPLE_ORG_ID,
    organization_uuid: ORG_UUID,
    project_id: c.projectId,
    user: c.creatorGone ? null : sampleUser(c.userId),
  };
}

function clampLimit(value: string | null, fallback: number, max: number): number | undefined {
  if (value === null) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : undefined;
}

function ok(body: unknown): ListingAnswer {
  return { status: 200, body };
}

function badRequest(message: string): ListingAnswer {
  return { status: 400, message };
}

/**
 * The `created_at.*` / `updated_at.*` filters of the chats listing (gt, gte, lt, lte), which must
 * match `order_by`. Returns a predicate, or the reason the query is refused.
 */
function timeBounds(query: URLSearchParams, orderBy: string): ((value: string) => boolean) | string {
  const tests: ((v: string) => boolean)[] = [];
  for (const field of ['created_at', 'updated_at']) {
    for (const op of ['gt', 'gte', 'lt', 'lte'] as const) {
      const bound = query.get(`${field}.${op}`);
      if (bound === null) continue;
      if (field !== orderBy) return `${field}.${op} needs order_by=${field}`;
      const ms = Date.parse(bound);
      if (!Number.isFinite(ms)) return `${field}.${op} must be a timestamp`;
      tests.push((v) => {
        const t = Date.parse(v);
        return op === 'gt' ? t > ms : op === 'gte' ? t >= ms : op === 'lt' ? t < ms : t <= ms;
      });
    }
  }
  return (v) => tests.every((test) => test(v));
}
