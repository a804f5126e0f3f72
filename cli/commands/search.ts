import { LOOKUP_ROUTES } from '../../shared/contracts/lookup-routes.js';
import type { CliIo } from '../io.js';
import { createLookupClient } from '../lookup-client.js';
import type { FileRecordJson, TrailEventJson } from '../lookup-client.js';
import { renderTable, toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';

export interface SearchOptions {
  creator?: string | undefined;
  chat?: string | undefined;
  project?: string | undefined;
  filename?: string | undefined;
  sha256?: string | undefined;
  md5?: string | undefined;
  status?: string | undefined;
  source?: string | undefined;
  fixity?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  order?: string | undefined;
  max: number;
  json?: boolean | undefined;
}

type SearchQuery = Extract<(typeof LOOKUP_ROUTES)[number], { resource: '/search/files' }>['query'][number];
type Filter = Exclude<SearchQuery, 'limit' | 'cursor'>;

/** The search route's filters, as the route contract lists them (paging is the client's business). */
const FILTERS = LOOKUP_ROUTES.flatMap((r) => (r.resource === '/search/files' ? r.query : [])).filter(
  (q): q is Filter => q !== 'limit' && q !== 'cursor',
);

/**
 * `archiver search`: GET /search/files with the same filters, every page up to --max. The API
 * validates the filters and their combination; its 400 comes back as a usage error naming the
 * supported combinations.
 */
export async function runSearch(opts: SearchOptions, target: StackTarget, io: CliIo): Promise<void> {
  const filters: Record<string, string> = {};
  for (const name of FILTERS) {
    const value = opts[name];
    if (value !== undefined) filters[name] = value;
  }
  const client = createLookupClient(await target.lookup());
  const { accessPattern, files, more } = await client.search(filters, opts.max);
  if (opts.json) {
    io.out(toJson({ accessPattern, files, more }));
    return;
  }
  io.out(
    renderTable(
      ['file', 'created', 'status', 'source', 'filename', 'bytes', 'creator', 'sha256'],
      files.map((f) => [
        f.fileId,
        stringField(f, 'createdAt'),
        f.status,
        stringField(f, 'source'),
        f.filename ?? '-',
        f.sizeBytes ?? '-',
        creatorOf(f),
        f.status === 'archived' ? `${f.sha256.slice(0, 12)}…` : '-',
      ]),
    ),
  );
  io.out(`${files.length} file(s) (${accessPattern})${more ? `; more match: raise --max (${opts.max})` : ''}`);
}

export interface AuditOptions {
  from?: string | undefined;
  to?: string | undefined;
  principal?: string | undefined;
  file?: string | undefined;
  max: number;
  json?: boolean | undefined;
}

/** `archiver audit`: GET /audit, newest first, every page up to --max. */
export async function runAudit(opts: AuditOptions, target: StackTarget, io: CliIo): Promise<void> {
  const filters: Record<string, string> = {};
  if (opts.from !== undefined) filters['from'] = opts.from;
  if (opts.to !== undefined) filters['to'] = opts.to;
  if (opts.principal !== undefined) filters['principal'] = opts.principal;
  if (opts.file !== undefined) filters['fileId'] = opts.file;
  const client = createLookupClient(await target.lookup());
  const { events, more } = await client.audit(filters, opts.max);
  if (opts.json) {
    io.out(toJson({ events, more }));
    return;
  }
  io.out(
    renderTable(
      ['at', 'principal', 'action', 'scope', 'status', 'source ip'],
      events.map((e: TrailEventJson) => [
        e.at,
        e.principal,
        e.action,
        Object.entries(e.scope)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || '-',
        e.errorType ? `${e.status} ${e.errorType}` : e.status,
        e.sourceIp ?? '-',
      ]),
    ),
  );
  io.out(`${events.length} event(s)${more ? `; more match: raise --max (${opts.max})` : ''}`);
}

function stringField(f: FileRecordJson, name: string): string {
  const v = (f as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : '-';
}

function creatorOf(f: FileRecordJson): string {
  const c = (f as Record<string, unknown>)['creator'] as
    | { id?: string; emailAddress?: string | null }
    | null
    | undefined;
  if (!c) return '-';
  return c.emailAddress ?? c.id ?? '-';
}
