import type { HoldAction, HoldProgress, Matter } from '../../../shared/contracts/holds.js';
import type { MatterDeps } from '../../../shared/holds/matters.js';
import type { HoldWorkSender, MatterStore } from '../../../shared/holds/ports.js';

/** The matters in memory, with the DynamoDB store's rules (conditional create, release, checkpoint). */
export class MemoryMatterStore implements MatterStore {
  readonly matters = new Map<string, Matter>();

  async create(matter: Matter): Promise<boolean> {
    if (this.matters.has(matter.matterId)) return false;
    this.matters.set(matter.matterId, structuredClone(matter));
    return true;
  }
  async get(matterId: string): Promise<Matter | undefined> {
    const m = this.matters.get(matterId);
    return m ? structuredClone(m) : undefined;
  }
  async list(): Promise<Matter[]> {
    return [...this.matters.values()].sort((a, b) => (a.matterId < b.matterId ? -1 : 1)).map((m) => structuredClone(m));
  }
  async release(matterId: string, by: string, at: string, progress: HoldProgress): Promise<Matter | undefined> {
    const m = this.matters.get(matterId);
    if (m?.status !== 'active') return undefined;
    Object.assign(m, { status: 'released', releasedBy: by, releasedAt: at, progress: structuredClone(progress) });
    return structuredClone(m);
  }
  async checkpoint(matterId: string, at: { action: HoldAction; page: number }, next: HoldProgress): Promise<boolean> {
    const m = this.matters.get(matterId);
    if (!m || m.progress.action !== at.action || m.progress.page !== at.page) return false;
    m.progress = structuredClone(next);
    return true;
  }
  async markSent(matterId: string, at: { action: HoldAction; page: number }): Promise<void> {
    const m = this.matters.get(matterId);
    if (m && m.progress.action === at.action && m.progress.page === at.page) m.progress.sent = true;
  }
}

/** Records what was sent, with its delay; `failNext` makes the next send throw (a queue outage). */
export class RecordingSender implements HoldWorkSender {
  readonly sent: { body: string; delaySeconds: number | undefined }[] = [];
  failNext: Error | undefined;
  async send(bodies: readonly string[], _signal: AbortSignal, opts: { delaySeconds?: number } = {}): Promise<void> {
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    for (const body of bodies) this.sent.push({ body, delaySeconds: opts.delaySeconds });
  }
}

export function memoryMatterDeps(overrides: Partial<MatterDeps> = {}): MatterDeps & {
  matters: MemoryMatterStore;
  work: RecordingSender;
} {
  return {
    matters: new MemoryMatterStore(),
    work: new RecordingSender(),
    releaseDelaySeconds: 0,
    now: () => Date.parse('2026-03-01T10:00:00Z'),
    ...overrides,
  } as MatterDeps & { matters: MemoryMatterStore; work: RecordingSender };
}
