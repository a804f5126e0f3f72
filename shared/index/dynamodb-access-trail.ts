import { createHash } from 'node:crypto';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../contracts/zod.js';
import { TRAIL_INDEXES, trailPartition, trailSortKey } from '../contracts/search-index.js';
import type { AccessTrail, TrailEvent, TrailPage, TrailQuery } from '../lookup/access-trail.js';
import { InvalidCursorError } from '../platform/errors.js';
import type { FileTrailReader } from '../export/ports.js';

/** Without principal or fileId, a page reads at most this many day partitions (then a cursor goes on). */
export const DAYS_PER_PAGE = 31;

/**
 * The access trail in the index table (keys: shared/contracts/search-index.ts):
 *   pk = TRAIL#<YYYY-MM-DD>   sk = <ISO time>#<event id>   tPrincipal, tFile → the two trail indexes.
 * An event is created with attribute_not_exists(pk), never updated or deleted (the lookup role may only
 * PutItem, and only on TRAIL# partitions: infra/service-stack.ts). Reads are newest first:
 * - principal (and optionally fileId): the principal index, sk between from and to; with a fileId too,
 *   the file index filtered by principal (one file's events are few);
 * - fileId: the file index, sk between from and to;
 * - neither: the day partitions from `to` back to `from`, sk between from and to.
 */
export class DynamoDbAccessTrail implements AccessTrail {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async record(event: TrailEvent): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: trailPartition(event.at.slice(0, 10)),
          sk: trailSortKey(event.at, event.eventId),
          ...event,
          tPrincipal: event.principal,
          ...(event.fileId ? { tFile: event.fileId } : {}),
        },
        // Append-only: an event id is new, so this never replaces an event.
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async list(q: TrailQuery): Promise<TrailPage> {
    // A window filled in from the clock binds the cursor to the query as asked, and the cursor carries
    // the first page's window (TrailQuery.asked); an explicit window binds the cursor to itself.
    const bound = q.asked ? ['asked', q.asked.from ?? null] : [q.from, q.to];
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([...bound, q.principal ?? null, q.fileId ?? null]))
      .digest('base64url')
      .slice(0, 16);
    const cursor = q.cursor === undefined ? undefined : decodeCursor(q.cursor, fingerprint);
    const [from, to] = (q.asked && cursor?.w) || [q.from, q.to];
    if (from > to) throw new InvalidCursorError();
    const window = q.asked ? { w: [from, to] as [string, string] } : {};
    const range = { ':from': from, ':to': `${to}#~` };
    if (q.principal !== undefined || q.fileId !== undefined) {
      const index = q.fileId !== undefined ? TRAIL_INDEXES.file : TRAIL_INDEXES.principal;
      const partition = (q.fileId ?? q.principal) as string;
      if (cursor?.k && cursor.k[index.partitionKey] !== partition) throw new InvalidCursorError();
      const page = await this.query({
        IndexName: index.name,
        KeyConditionExpression: '#p = :p AND sk BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#p': index.partitionKey },
        ExpressionAttributeValues: { ':p': partition, ...range },
        ...(q.fileId !== undefined && q.principal !== undefined
          ? { FilterExpression: 'tPrincipal = :principal', principal: q.principal }
          : {}),
        limit: q.limit,
        startKey: cursor?.k,
      });
      return {
        events: page.events,
        nextCursor: page.lastKey ? encodeCursor({ f: fingerprint, ...window, k: page.lastKey }) : undefined,
      };
    }
    // Day partitions, newest first.
    const days: string[] = [];
    for (let t = Date.parse(`${to.slice(0, 10)}T00:00:00Z`); ; t -= 86_400_000) {
      const day = new Date(t).toISOString().slice(0, 10);
      if (day < from.slice(0, 10) || days.length > 366 * 20) break;
      days.push(day);
    }
    let position = cursor?.d === undefined ? 0 : days.indexOf(cursor.d);
    if (position < 0) throw new InvalidCursorError();
    let startKey = cursor?.k;
    if (startKey && startKey['pk'] !== trailPartition(days[position] as string)) throw new InvalidCursorError();
    const events: TrailEvent[] = [];
    for (let visited = 0; visited < DAYS_PER_PAGE && position < days.length; ) {
      const day = days[position] as string;
      const page = await this.query({
        KeyConditionExpression: 'pk = :p AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':p': trailPartition(day), ...range },
        limit: q.limit - events.length,
        startKey,
      });
      events.push(...page.events);
      if (page.lastKey) {
        startKey = page.lastKey;
        if (events.length >= q.limit)
          return { events, nextCursor: encodeCursor({ f: fingerprint, ...window, d: day, k: startKey }) };
        continue;
      }
      startKey = undefined;
      position++;
      visited++;
      if (events.length >= q.limit) break;
    }
    const next = days[position];
    return {
      events,
      nextCursor: next === undefined ? undefined : encodeCursor({ f: fingerprint, ...window, d: next }),
    };
  }

  private async query(input: {
    IndexName?: string;
    KeyConditionExpression: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues: Record<string, string>;
    FilterExpression?: string;
    principal?: string;
    limit: number;
    startKey: Record<string, string> | undefined;
  }): Promise<{ events: TrailEvent[]; lastKey: Record<string, string> | undefined }> {
    const res = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        ...(input.IndexName ? { IndexName: input.IndexName } : {}),
        KeyConditionExpression: input.KeyConditionExpression,
        ...(input.ExpressionAttributeNames ? { ExpressionAttributeNames: input.ExpressionAttributeNames } : {}),
        ExpressionAttributeValues: {
          ...input.ExpressionAttributeValues,
          ...(input.principal !== undefined ? { ':principal': input.principal } : {}),
        },
        ...(input.FilterExpression ? { FilterExpression: input.FilterExpression } : {}),
        ScanIndexForward: false,
        // One more than the page: its presence says another page follows (a cursor from DynamoDB's own
        // LastEvaluatedKey after exactly `limit` items could lead to an empty page).
        Limit: input.limit + 1,
        ...(input.startKey ? { ExclusiveStartKey: input.startKey } : {}),
      }),
    );
    const items = res.Items ?? [];
    const page = items.slice(0, input.limit);
    const last = page[page.length - 1];
    let lastKey = res.LastEvaluatedKey as Record<string, string> | undefined;
    if (items.length > input.limit && last) {
      const names = [
        'pk',
        'sk',
        ...(input.IndexName === TRAIL_INDEXES.principal.name ? ['tPrincipal'] : []),
        ...(input.IndexName === TRAIL_INDEXES.file.name ? ['tFile'] : []),
      ];
      lastKey = Object.fromEntries(names.map((n) => [n, String(last[n])]));
    }
    return { events: page.map(toEvent), lastKey };
  }
}

/** The earliest and latest sort keys a trail event can have (ISO times sort as text). */
const ALL_TIME = { from: '0000-01-01T00:00:00.000Z', to: '9999-12-31T23:59:59.999Z' } as const;

/**
 * The export's view of the trail: every event naming one file, newest first, through the trail's file
 * index (one Query per page, TRAIL_INDEXES.file: `tFile = fileId`, the whole time range).
 */
export function fileTrailReader(trail: Pick<AccessTrail, 'list'>): FileTrailReader {
  return {
    async page(fileId, limit, cursor) {
      const page = await trail.list({ ...ALL_TIME, fileId, principal: undefined, limit, cursor });
      return page.nextCursor === undefined ? { events: page.events } : { events: page.events, cursor: page.nextCursor };
    },
  };
}

function toEvent(item: Record<string, unknown>): TrailEvent {
  const { pk: _pk, sk: _sk, tPrincipal: _p, tFile: _f, ...event } = item;
  return event as unknown as TrailEvent;
}

/** A trail time as the cursor carries it (the ISO instants readTrail resolves). */
const CursorInstant = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/));

const CursorSchema = z.strictObject({
  f: z.string().check(z.length(16)),
  /** The window of the first page, when the query's own was filled in from the clock. */
  w: z.optional(z.tuple([CursorInstant, CursorInstant])),
  d: z.optional(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/))),
  k: z.optional(
    z.partialRecord(z.enum(['pk', 'sk', 'tPrincipal', 'tFile']), z.string().check(z.minLength(1), z.maxLength(2200))),
  ),
});
type Cursor = z.infer<typeof CursorSchema>;

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeCursor(text: string, fingerprint: string): Cursor {
  if (text.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(text)) throw new InvalidCursorError();
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  const parsed = CursorSchema.safeParse(json);
  if (!parsed.success || parsed.data.f !== fingerprint) throw new InvalidCursorError();
  return parsed.data;
}
