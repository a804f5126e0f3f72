/**
 * The lookup API's export use cases: start an export (a job record and a queue message; the work is
 * done by the export worker, not in the request) and read one back, with a download link once its
 * bag is complete.
 */
import { newExportId, queuedExportJob } from '../contracts/exports.js';
import type { ExportJob, ExportMessage, ExportRequest } from '../contracts/exports.js';
import { describeError, RequestRejectedError } from '../platform/errors.js';
import type { ExportJobStore, MatterLookup } from './ports.js';

/** What the lookup API needs for exports (a port). */
export interface ExportRequests {
  jobs: Pick<ExportJobStore, 'create' | 'get' | 'update'>;
  queue: { send(message: ExportMessage): Promise<void> };
  /** A short-lived link to a completed bag. */
  presignBag(key: string, ttlSeconds: number, filename: string): Promise<string>;
  /** The legal-hold matters: a request naming a matter takes its files. */
  matters: MatterLookup;
}

export async function startExport(
  deps: ExportRequests,
  request: ExportRequest,
  requestedBy: string,
  now: Date,
): Promise<ExportJob> {
  // A matter (placed or released) gives the files; with a scope too, the scope narrows them.
  if (request.matterId && !(await deps.matters(request.matterId))) {
    throw new RequestRejectedError('not_found', `No legal hold names matter ${request.matterId}.`);
  }
  const at = now.toISOString();
  const job: ExportJob = queuedExportJob(
    {
      exportId: newExportId(),
      scope: request.scope ?? null,
      matterId: request.matterId ?? null,
      description: request.description ?? null,
      requestedBy,
    },
    at,
  );
  if (!(await deps.jobs.create(job))) throw new Error('export id collision');
  try {
    await deps.queue.send({ exportId: job.exportId });
  } catch (err) {
    // No worker will ever see it: say so on the job rather than leave it queued forever.
    await deps.jobs.update(job.exportId, {
      status: 'failed',
      error: 'the export could not be queued; start it again',
      updatedAt: new Date().toISOString(),
    });
    throw new Error(`could not queue export ${job.exportId}: ${describeError(err)}`, { cause: err });
  }
  return job;
}

export interface ExportView extends ExportJob {
  /** Present once the bag is complete: a link valid for `expiresInSeconds`. */
  download?: { url: string; expiresInSeconds: number; sha256: string; bytes: number };
}

export async function readExport(deps: ExportRequests, exportId: string, ttlSeconds: number): Promise<ExportView> {
  const job = await deps.jobs.get(exportId);
  if (!job) throw new RequestRejectedError('not_found', 'No export with this id.');
  if (job.status !== 'completed' || !job.bag) return job;
  const url = await deps.presignBag(job.bag.key, ttlSeconds, `${exportId}.zip`);
  return { ...job, download: { url, expiresInSeconds: ttlSeconds, sha256: job.bag.sha256, bytes: job.bag.bytes } };
}
