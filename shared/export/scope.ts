import type { FileRecord } from '../contracts/file-records.js';
import type { ExportScope } from '../contracts/exports.js';
import { inScope } from '../contracts/holds.js';
import type { HoldScope } from '../contracts/holds.js';
import { canonicalTimestamp } from '../contracts/timestamps.js';

/**
 * Whether a file record is in an export's scope (shared/contracts/exports.ts): every criterion given
 * must hold; a list holds when any of its values does. A file with no usable upstream creation time
 * is outside any scope that sets `from` or `to` (it cannot be shown to fall inside).
 */
export function matchesScope(record: FileRecord, scope: ExportScope): boolean {
  if (scope.fileIds && !scope.fileIds.includes(record.fileId)) return false;
  if (scope.chats && !record.chatIds.some((c) => scope.chats?.includes(c))) return false;
  if (scope.projects && !(record.projectId && scope.projects.includes(record.projectId))) return false;
  if (scope.users) {
    const creator = record.creator;
    const email = creator?.emailAddress?.toLowerCase();
    const ok = scope.users.some((u) => u === creator?.id || (email !== undefined && u.toLowerCase() === email));
    if (!ok) return false;
  }
  if (scope.from || scope.to) {
    const created = canonicalTimestamp(record.createdAt);
    if (!created) return false;
    const at = Date.parse(created);
    if (scope.from && at < Date.parse(scope.from)) return false;
    if (scope.to && at >= Date.parse(scope.to)) return false;
  }
  return true;
}

/**
 * What an export takes: a legal-hold matter's files (its scope under the hold rules, holds.ts
 * `inScope`: the same files its sweep and ingest hold), an export scope (the rules above), or both
 * (the matter's files narrowed by the scope).
 */
export interface ExportSelection {
  matter?: { matterId: string; scope: HoldScope };
  scope?: ExportScope;
}

export function selects(record: FileRecord, selection: ExportSelection): boolean {
  if (selection.matter && !inScope(record, selection.matter.scope)) return false;
  if (selection.scope && !matchesScope(record, selection.scope)) return false;
  return true;
}
