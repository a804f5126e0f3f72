/**
 * The sample upstream's endpoints, one row each. A new endpoint joins by adding a row: its path
 * pattern (anchored; capture group 1, when present, is the URL-encoded id), the API it belongs to, the
 * name faults and the request log know it by, and its handler. Rows are tried in order and the first
 * match wins, so a more specific pattern goes before a more general one.
 *
 * Checks common to every route (API key, `anthropic-version`, GET only, the Files API beta header,
 * injected faults) run in server.ts before a handler is called.
 */
import type { FileCatalogue } from './catalogue.js';
import type { UpstreamListings } from './listings.js';
import type { ProjectEndpoint } from './projects.js';
import type { Exchange } from './exchange.js';
import type { ContentFault } from './faults.js';
import { serveFileContent, serveFileMetadata } from './file-endpoints.js';

/**
 * Which request a fault applies to: `metadata` and `content` are keyed by file id, `messages` by chat
 * id, `attachments` by project id, `document` and `document-metadata` by document id, and the
 * listings (`chats`, `activities`, `files-list`, `projects`) by '' (they have no id).
 */
export type UpstreamEndpoint =
  | 'metadata'
  | 'content'
  | 'messages'
  | 'chats'
  | 'activities'
  | 'files-list'
  | ProjectEndpoint;

/** What a handler is given. */
export interface RouteContext {
  exchange: Exchange;
  /** The decoded id from the path ('' for a route whose path has none). */
  id: string;
  catalogue: FileCatalogue;
  /** Chats, messages, activities and the Files API listing (listings.ts). */
  listings: UpstreamListings;
  /** A content fault taken for this request (status and stall faults are handled before the handler). */
  contentFault: ContentFault | undefined;
}

export interface UpstreamRoute {
  pattern: RegExp;
  /** `files` routes need the `anthropic-beta: files-api-…` header. */
  api: 'compliance' | 'files';
  endpoint: UpstreamEndpoint;
  handle(ctx: RouteContext): Promise<void> | void;
}

export const ROUTES: readonly UpstreamRoute[] = [
  {
    pattern: /^\/v1\/compliance\/apps\/chats$/,
    api: 'compliance',
    endpoint: 'chats',
    handle: (ctx) => ctx.listings.serve(ctx, 'chats'),
  },
  {
    pattern: /^\/v1\/compliance\/activities$/,
    api: 'compliance',
    endpoint: 'activities',
    handle: (ctx) => ctx.listings.serve(ctx, 'activities'),
  },
  {
    pattern: /^\/v1\/files$/,
    api: 'files',
    endpoint: 'files-list',
    handle: (ctx) => ctx.listings.serve(ctx, 'files-list'),
  },
  {
    pattern: /^\/v1\/compliance\/apps\/chats\/generated-files\/([^/]+)$/,
    api: 'compliance',
    endpoint: 'metadata',
    handle: (ctx) => serveFileMetadata(ctx, 'generated'),
  },
  {
    pattern: /^\/v1\/compliance\/apps\/chats\/generated-files\/([^/]+)\/content$/,
    api: 'compliance',
    endpoint: 'content',
    handle: (ctx) => serveFileContent(ctx, 'generated'),
  },
  {
    pattern: /^\/v1\/compliance\/apps\/chats\/files\/([^/]+)$/,
    api: 'compliance',
    endpoint: 'metadata',
    handle: (ctx) => serveFileMetadata(ctx, 'uploaded'),
  },
  {
    pattern: /^\/v1\/compliance\/apps\/chats\/files\/([^/]+)\/content$/,
    api: 'compliance',
    endpoint: 'content',
    handle: (ctx) => serveFileContent(ctx, 'uploaded'),
  },
  {
    pattern: /^\/v1\/files\/([^/]+)$/,
    api: 'files',
    endpoint: 'metadata',
    handle: (ctx) => serveFileMetadata(ctx, 'files_api'),
  },
  {
    pattern: /^\/v1\/files\/([^/]+)\/content$/,
    api: 'files',
    endpoint: 'content',
    handle: (ctx) => serveFileContent(ctx, 'files_api'),
  },
  {
    pattern: /^\/v1\/compliance\/apps\/artifacts\/([^/]+)$/,
    api: 'compliance',
    endpoint: 'metadata',
    handle: (ctx) => serveFileMetadata(ctx, 'artifact'),
  },
  {
    pattern: /^\/v1\/compliance\/apps\/artifacts\/([^/]+)\/content$/,
    api: 'compliance',
    endpoint: 'content',
    handle: (ctx) => serveFileContent(ctx, 'artifact'),
  },
  {
    pattern: /^\/v1\/compliance\/apps\/projects$/,
    api: 'compliance',
    endpoint: 'projects',
    handle: (ctx) => ctx.listings.projects.serve(ctx, 'projects'),
  },
  // Documents before attachments: `projects/documents/attachments` is the document named "attachments".
  {
    pattern: /^\/v1\/compliance\/apps\/projects\/documents\/([^/]+)$/,
    api: 'compliance',
    endpoint: 'document',
    handle: (ctx) => ctx.listings.projects.serve(ctx, 'document'),
  },
  {
    pattern: /^\/v1\/compliance\/apps\/projects\/documents\/([^/]+)\/metadata$/,
    api: 'compliance',
    endpoint: 'document-metadata',
    handle: (ctx) => ctx.listings.projects.serve(ctx, 'document-metadata'),
  },
  {
    pattern: /^\/v1\/compliance\/apps\/projects\/([^/]+)\/attachments$/,
    api: 'compliance',
    endpoint: 'attachments',
    handle: (ctx) => ctx.listings.projects.serve(ctx, 'attachments'),
  },
  // After the file routes: `chats/files/messages` is the metadata of an uploaded file named "messages".
  {
    pattern: /^\/v1\/compliance\/apps\/chats\/([^/]+)\/messages$/,
    api: 'compliance',
    endpoint: 'messages',
    handle: (ctx) => ctx.listings.serve(ctx, 'messages'),
  },
];

/** The first route whose pattern matches the path, with its decoded id; undefined when none does. */
export function matchRoute(path: string): { route: UpstreamRoute; id: string } | undefined {
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    try {
      return { route, id: decodeURIComponent(match[1] ?? '') };
    } catch {
      return undefined; // a malformed escape is no path upstream knows
    }
  }
  return undefined;
}
