import { withStackQueuesAndIndex } from '../aws-access.js';
import type { CliIo } from '../io.js';
import { renderPairs, toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';
import { reindexSearchKeys } from '../../shared/index/dynamodb-reindex.js';

/**
 * `archiver reindex`: gives file items written before the search indexes existed their search keys
 * (shared/index/dynamodb-reindex.ts), resumably. Needs the operator policy (Scan, UpdateItem, and the
 * checkpoint item's GetItem/PutItem on the index table).
 */
export async function runReindex(
  opts: { restart?: boolean | undefined; json?: boolean | undefined },
  target: StackTarget,
  io: CliIo,
): Promise<void> {
  const resources = await target.resources();
  let pagesRead = 0;
  const progress = await withStackQueuesAndIndex(
    resources,
    () => io.now(),
    'cannot reindex the index table',
    (deps) =>
      reindexSearchKeys(deps.doc, deps.table, {
        restart: opts.restart ?? false,
        signal: io.signal,
        onPage: (p) => {
          pagesRead++;
          if (!opts.json) io.err(`reindex: ${p.scanned} items read, ${p.updated} file(s) given search keys`);
        },
      }),
  );
  // A completed run is not repeated: say so, or its figures read as this run's.
  if (pagesRead === 0 && progress.completedAt !== null && !opts.json)
    io.err(`reindex: already completed at ${progress.completedAt}; nothing done (--restart runs it again)`);
  if (opts.json) {
    io.out(toJson(progress));
    return;
  }
  io.out(
    renderPairs([
      ['items read', progress.scanned],
      ['file items', progress.fileItems],
      ['given search keys', progress.updated],
      ['skipped (rewritten meanwhile)', progress.skipped],
      ['started', progress.startedAt],
      ['completed', progress.completedAt ?? 'no'],
      ['resumed', progress.resumed ? 'yes' : 'no'],
    ]),
  );
}
