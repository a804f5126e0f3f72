import type { AccessTrail, TrailEvent, TrailPage, TrailQuery } from '../../../shared/lookup/access-trail.js';
import type { FileSearchIndex, IndexPage, IndexQuery } from '../../../shared/lookup/search-files.js';

/** An in-memory access trail for unit tests of the HTTP layer: keeps every event, lists them newest first. */
export class MemoryAccessTrail implements AccessTrail {
  readonly events: TrailEvent[] = [];
  /** Set to make the next writes fail, as a trail store that is down would. */
  failWrites = false;

  async record(event: TrailEvent): Promise<void> {
    if (this.failWrites) throw new Error('trail store unavailable');
    this.events.push(event);
  }

  async list(q: TrailQuery): Promise<TrailPage> {
    const events = this.events
      .filter((e) => e.at >= q.from && e.at <= q.to)
      .filter((e) => q.principal === undefined || e.principal === q.principal)
      .filter((e) => q.fileId === undefined || e.fileId === q.fileId)
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, q.limit);
    return { events, nextCursor: undefined };
  }
}

/** A search index that records the queries it is asked and answers each with no records. */
export class RecordingSearchIndex implements FileSearchIndex {
  readonly queries: IndexQuery[] = [];

  async query(q: IndexQuery): Promise<IndexPage> {
    this.queries.push(q);
    return { records: [], lastKey: undefined, readUnits: 0 };
  }
}
