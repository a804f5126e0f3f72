/**
 * The sample upstream's projects, as docs/upstream-api-facts.md states the Compliance API serves them:
 * the projects listing (ascending by `created_at`, ties by id; `limit` 1-100, default 20; paged with
 * an opaque `page` token taken from the previous answer's `next_page`), a project's attachments (the
 * same paging, sorted by `created_at` then id, discriminated by `type`: `project_file` for an
 * uploaded file whose bytes the uploaded-files content endpoint serves, `project_doc` for a document),
 * and a document's JSON (`content` is its text) and metadata. The projects listing takes the
 * `updated_at.{gt,gte,lt,lte}` filters; a project's `updated_at` moves to now when a file or document
 * is attached to it or it is changed (`update`, `attach`): the reference does not say that attaching
 * bumps it, the archiver's change polling assumes it does (docs/upstream-api-facts.md), and its full
 * walk covers the case where it does not. A project deleted in the app keeps being listed with
 * `deleted_at` set; a project removed here (hard delete) answers 404, and so does a
 * removed document. A page token this server did not issue for that listing answers 400.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ProjectDocumentIdSchema, ProjectIdSchema, UploadedFileIdSchema } from '../../shared/contracts/ids.js';
import { DEFAULT_CREATED_AT, publishedMd5, publishedSize, type FileCatalogue } from './catalogue.js';
import type { RouteContext } from './routes.js';

const ORG_UUID = '00000000-0000-4000-8000-000000000001';
const ORG_ID = 'org_01Local';

export interface SampleProjectDocument {
  id: string;
  filename: string;
  /** The document's text. */
  content: string;
  createdAt?: string;
  /** The creator; null when the account left the organization (default user_01LocalSampleUser). */
  userId?: string | null;
}

export interface SampleProject {
  id: string;
  name?: string;
  createdAt?: string;
  /** Its last change (default: `createdAt`); `update` and `attach` set it to now. */
  updatedAt?: string;
  /** Deleted in the app: still listed, with `deleted_at` set. */
  deletedAt?: string | null;
  /** The creator; null when the account left the organization (default user_01LocalSampleUser). */
  userId?: string | null;
  /** Ids of uploaded files (in the file catalogue) attached to the project. */
  fileIds?: string[];
  documents?: SampleProjectDocument[];
}

type Answer = { status: 200; body: unknown } | { status: 400 | 404; message: string };

export type ProjectEndpoint = 'projects' | 'attachments' | 'document' | 'document-metadata';

export class UpstreamProjects {
  private readonly projects = new Map<string, SampleProject>();
  /** Page tokens handed out: which listing they belong to and the sort key they resume after. */
  private readonly issued = new Map<string, { listing: string; after: string }>();

  constructor(private readonly catalogue: FileCatalogue) {}

  /** Adds or replaces a project (its ids checked as upstream's would be). */
  set(project: SampleProject): void {
    if (!ProjectIdSchema.safeParse(project.id).success) throw new Error(`${project.id} is not a valid project id`);
    for (const id of project.fileIds ?? []) {
      if (!UploadedFileIdSchema.safeParse(id).success) throw new Error(`${id} is not an uploaded file id`);
    }
    for (const d of project.documents ?? []) {
      if (!ProjectDocumentIdSchema.safeParse(d.id).success) throw new Error(`${d.id} is not a document id`);
    }
    this.projects.set(project.id, structuredClone(project));
  }

  /** Changes a project (`deletedAt` marks it deleted in the app); its `updated_at` becomes now unless given. */
  update(id: string, change: Partial<Omit<SampleProject, 'id'>>): void {
    const p = this.projects.get(id);
    if (!p) throw new Error(`no project ${id}`);
    this.set({ ...p, updatedAt: new Date().toISOString(), ...change });
  }

  /** Attaches uploaded files (already in the catalogue) to a project, which bumps its `updated_at`. */
  attach(id: string, ...fileIds: string[]): void {
    const p = this.projects.get(id);
    if (!p) throw new Error(`no project ${id}`);
    this.update(id, { fileIds: [...(p.fileIds ?? []), ...fileIds] });
  }

  /** Hard-deletes a project: it is no longer listed and its endpoints answer 404. */
  remove(id: string): void {
    this.projects.delete(id);
  }

  /** Hard-deletes one document of a project. */
  removeDocument(documentId: string): void {
    for (const p of this.projects.values()) p.documents = (p.documents ?? []).filter((d) => d.id !== documentId);
  }

  serve(ctx: RouteContext, endpoint: ProjectEndpoint): void {
    const query = new URL(ctx.exchange.req.url ?? '/', 'http://local').searchParams;
    const answer =
      endpoint === 'projects'
        ? this.listProjects(query)
        : endpoint === 'attachments'
          ? this.listAttachments(ctx.id, query)
          : this.document(ctx.id, endpoint === 'document-metadata');
    if (answer.status === 200) ctx.exchange.sendJson(answer.body);
    else ctx.exchange.fail(answer.status, answer.message);
  }

  private listProjects(query: URLSearchParams): Answer {
    const bounds: [string, (updated: number, bound: number) => boolean][] = [
      ['updated_at.gt', (u, b) => u > b],
      ['updated_at.gte', (u, b) => u >= b],
      ['updated_at.lt', (u, b) => u < b],
      ['updated_at.lte', (u, b) => u <= b],
    ];
    const filters: ((updated: number) => boolean)[] = [];
    for (const [name, test] of bounds) {
      const value = query.get(name);
      if (value === null) continue;
      const bound = Date.parse(value);
      if (Number.isNaN(bound)) return { status: 400, message: `${name} must be an RFC 3339 timestamp` };
      filters.push((u) => test(u, bound));
    }
    const rows = [...this.projects.values()]
      .filter((p) => filters.every((f) => f(Date.parse(p.updatedAt ?? p.createdAt ?? DEFAULT_CREATED_AT))))
      .map((p) => ({ key: `${p.createdAt ?? DEFAULT_CREATED_AT}|${p.id}`, body: projectBody(p) }))
      .sort((a, b) => a.key.localeCompare(b.key));
    // A page token belongs to the listing it came from, filters included.
    const filtered = bounds.map(([name]) => `${name}=${query.get(name) ?? ''}`).join('&');
    return this.page(`projects ${filtered}`, rows, query);
  }

  private listAttachments(projectId: string, query: URLSearchParams): Answer {
    const project = this.projects.get(projectId);
    if (!project) return { status: 404, message: 'No project found with provided id, or it has already been deleted.' };
    const rows: { key: string; body: unknown }[] = [];
    for (const fileId of project.fileIds ?? []) {
      const stored = this.catalogue.get(fileId);
      const createdAt = stored?.file.createdAt ?? DEFAULT_CREATED_AT;
      const file = stored?.file;
      // An attached file the catalogue no longer holds is still listed: its content then answers 404.
      rows.push({
        key: `${createdAt}|${fileId}`,
        body: {
          id: fileId,
          type: 'project_file',
          created_at: createdAt,
          filename: file?.filename ?? 'gone.bin',
          mime_type: file?.mimeType ?? 'application/octet-stream',
          md5: stored && file?.source === 'uploaded' ? publishedMd5(file, stored.digest) : null,
          size_bytes: stored && file?.source === 'uploaded' ? publishedSize(file, stored.digest) : null,
        },
      });
    }
    for (const d of project.documents ?? []) {
      const createdAt = d.createdAt ?? DEFAULT_CREATED_AT;
      rows.push({
        key: `${createdAt}|${d.id}`,
        body: {
          id: d.id,
          type: 'project_doc',
          created_at: createdAt,
          filename: d.filename,
          mime_type: 'text/plain',
          updated_at: null,
        },
      });
    }
    rows.sort((a, b) => a.key.localeCompare(b.key));
    return this.page(`attachments ${projectId}`, rows, query);
  }

  private document(documentId: string, metadataOnly: boolean): Answer {
    for (const p of this.projects.values()) {
      const d = (p.documents ?? []).find((x) => x.id === documentId);
      if (!d) continue;
      const common = {
        id: d.id,
        created_at: d.createdAt ?? DEFAULT_CREATED_AT,
        filename: d.filename,
        user: userBody(d.userId),
      };
      if (!metadataOnly) return { status: 200, body: { ...common, content: d.content } };
      const bytes = Buffer.from(d.content, 'utf8');
      return {
        status: 200,
        body: {
          ...common,
          claude_project_id: p.id,
          md5: createHash('md5').update(bytes).digest('hex'),
          mime_type: 'text/plain',
          size_bytes: bytes.byteLength,
        },
      };
    }
    return { status: 404, message: 'No document found with provided id, or it has already been deleted.' };
  }

  /** One page of `rows` (sorted by key) after the query's `page` token; issues the next token. */
  private page(listing: string, rows: { key: string; body: unknown }[], query: URLSearchParams): Answer {
    const limitParam = query.get('limit');
    const limit = limitParam === null ? 20 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) return { status: 400, message: 'limit must be 1-100' };
    let after = '';
    const token = query.get('page');
    if (token !== null) {
      const issued = this.issued.get(token);
      if (!issued || issued.listing !== listing) return { status: 400, message: 'page is not a valid page token' };
      after = issued.after;
    }
    const rest = rows.filter((r) => r.key > after);
    const page = rest.slice(0, limit);
    const more = rest.length > page.length;
    let next: string | null = null;
    const last = page.at(-1);
    if (more && last) {
      next = `page_${randomBytes(12).toString('base64url')}`;
      this.issued.set(next, { listing, after: last.key });
    }
    return { status: 200, body: { data: page.map((r) => r.body), has_more: more, next_page: next } };
  }
}

function userBody(userId: string | null | undefined): { id: string; email_address: string } | null {
  if (userId === null) return null;
  const id = userId ?? 'user_01LocalSampleUser';
  return { id, email_address: `${id.slice('user_'.length).toLowerCase()}@example.com` };
}

function projectBody(p: SampleProject): Record<string, unknown> {
  const createdAt = p.createdAt ?? DEFAULT_CREATED_AT;
  return {
    id: p.id,
    name: p.name ?? `Local project ${p.id.slice('claude_proj_'.length)}`,
    created_at: createdAt,
    updated_at: p.updatedAt ?? createdAt,
    deleted_at: p.deletedAt ?? null,
    is_private: false,
    organization_id: ORG_ID,
    organization_uuid: ORG_UUID,
    user: userBody(p.userId),
  };
}
