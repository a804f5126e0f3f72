import type { RecordProvenance } from '../contracts/file-records.js';
import type { IngestJob } from '../contracts/job.js';

/**
 * The provenance a job carries, as record fields (the job uses the record's names and shapes). Only
 * what discovery read is set: an absent field leaves the record's value alone, null records that
 * upstream said null, and an empty list of message ids says nothing.
 */
export function provenanceOf(job: IngestJob): RecordProvenance {
  const p = job.provenance;
  if (!p) return {};
  const out: RecordProvenance = {};
  if (p.creator !== undefined) out.creator = p.creator === null ? null : { ...p.creator };
  if (p.organizationId !== undefined) out.organizationId = p.organizationId;
  if (p.projectId !== undefined) out.projectId = p.projectId;
  if (p.messageIds !== undefined && p.messageIds.length > 0) out.messageIds = [...new Set(p.messageIds)].sort();
  return out;
}
