import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { fileItemKey } from '../contracts/table-keys.js';
import type { ArchivedFiles } from '../discovery/ports.js';
import { batchGetItems } from './dynamodb-batch-get.js';

/**
 * The index as the Files API poller asks it: which of a listing page's files already have a final
 * record. Archived, unavailable and failed are final, pending is not; a failed file is left to an
 * operator (a redrive of its dead letter, or a new job), so that a file that cannot be archived is not
 * enqueued again on every walk.
 *
 * One BatchGetItem per 100 ids instead of one GetItem per id: at 100,000 listed files a walk costs
 * 1,000 requests, not 100,000. Only `pk` and `status` are read (ProjectionExpression: smaller
 * responses; DynamoDB still charges capacity by the whole item's size). The reads are eventually
 * consistent, which halves their capacity, and a stale answer is harmless here: a file whose final
 * record is too fresh to be seen is enqueued once more (ingest is idempotent: its claim finds the
 * record final and does nothing), and a failed file reopened an instant ago by a redrive has that
 * redrive's job already; either way the next walk, which lists every file again, reads the table anew.
 */
export class DynamoDbArchivedFiles implements ArchivedFiles {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async finalAmong(
    fileIds: readonly string[],
    signal: AbortSignal,
    opts: { withProject?: boolean } = {},
  ): Promise<ReadonlySet<string>> {
    const idByPk = new Map([...new Set(fileIds)].map((id) => [fileItemKey(id).pk, id]));
    const items = await batchGetItems(
      this.doc,
      this.table,
      [...idByPk.values()].map((id) => fileItemKey(id)),
      {
        projection: {
          expression: opts.withProject ? 'pk, #status, projectId' : 'pk, #status',
          names: { '#status': 'status' },
        },
        consistentRead: false,
        signal,
      },
    );
    const final = new Set<string>();
    for (const item of items) {
      const id = idByPk.get(String(item['pk']));
      if (id === undefined || item['status'] === 'pending') continue;
      if (opts.withProject && typeof item['projectId'] !== 'string') continue;
      final.add(id);
    }
    return final;
  }
}
