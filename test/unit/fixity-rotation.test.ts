/**
 * The scheduled fixity audit's rotation and sample (shared/fixity/scheduled-audit.ts), and its run
 * over fake ports: every file is cheap-checked exactly once per rotation, the deep sample is near its
 * percentage, a run cut short resumes from its checkpoint, and one file that cannot be checked does
 * not stop the rest.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ArchivedRecord } from '../../shared/contracts/file-records.js';
import type { FixityEvent } from '../../shared/contracts/fixity.js';
import {
  type AuditCheckpoint,
  type AuditDeps,
  dayNumber,
  inDeepSample,
  inTodaysSlice,
  rotationPosition,
  runScheduledAudit,
  tiersFor,
} from '../../shared/fixity/scheduled-audit.js';
import { drawSample } from '../../cli/commands/verify.js';
import { FixityConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';

const ids = Array.from({ length: 3000 }, (_, i) => `claude_gen_file_${i.toString(36).padStart(6, '0')}`);

describe('rotation math', () => {
  it('puts every file in exactly one day of any rotation length', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 1, max: 366 }), fc.nat(40_000), (id, n, start) => {
        const days = Array.from({ length: n }, (_, k) => start + k).filter((d) => inTodaysSlice(id, d, n));
        expect(days).toHaveLength(1);
        expect(rotationPosition(id, n)).toBe((days[0] as number) % n);
      }),
    );
  });

  it('spreads files over the 30 slices roughly evenly (each slice within 40% of its share)', () => {
    const counts = new Array<number>(30).fill(0);
    for (const id of ids) counts[rotationPosition(id, 30)]! += 1;
    for (const c of counts) expect(Math.abs(c - 100)).toBeLessThan(40);
  });

  it('samples about the percentage for deep checks, a different draw each day', () => {
    const day = dayNumber(Date.UTC(2026, 11, 6));
    const today = ids.filter((id) => inDeepSample(id, day, 5));
    const tomorrow = ids.filter((id) => inDeepSample(id, day + 1, 5));
    expect(today.length).toBeGreaterThan(100);
    expect(today.length).toBeLessThan(200);
    expect(today).not.toEqual(tomorrow);
    expect(ids.filter((id) => inDeepSample(id, day, 0))).toEqual([]);
    expect(ids.filter((id) => inDeepSample(id, day, 100))).toHaveLength(ids.length);
  });

  it('gives a sampled file the deep tier alone, others cheap on their day, else nothing', () => {
    const settings = { rotationDays: 30, samplePercent: 1 };
    for (const id of ids.slice(0, 300)) {
      const tiers = tiersFor(id, 20_000, settings);
      if (inDeepSample(id, 20_000, 1)) expect(tiers).toEqual(['deep']);
      else if (inTodaysSlice(id, 20_000, 30)) expect(tiers).toEqual(['cheap']);
      else expect(tiers).toEqual([]);
    }
  });
});

const record = (fileId: string): ArchivedRecord =>
  ({
    fileId,
    status: 'archived',
    bucket: 'archive',
    key: `archive/${fileId}`,
    versionId: 'v1',
    sizeBytes: 3,
  }) as ArchivedRecord;

function fakeDeps(files: string[], opts: { pageSize: number; pagesPerRun?: number; broken?: Set<string> }) {
  const checked: { fileId: string; tier: string }[] = [];
  const recorded: FixityEvent[] = [];
  const metrics: string[] = [];
  let checkpoint: AuditCheckpoint | undefined;
  let pagesThisRun = 0;
  const now = Date.UTC(2026, 11, 6, 3);
  const deps: AuditDeps = {
    now: () => now,
    archiveBucket: 'archive',
    copies: {
      async head(copy) {
        const fileId = copy.key.slice('archive/'.length);
        checked.push({ fileId, tier: 'cheap' });
        if (opts.broken?.has(fileId)) throw new Error('SlowDown');
        return fileId.endsWith('7') ? { kind: 'missing' } : { kind: 'found', sizeBytes: 3, crc32: undefined };
      },
      async digest(copy) {
        checked.push({ fileId: copy.key.slice('archive/'.length), tier: 'deep' });
        return { kind: 'found', sizeBytes: 3, md5Hex: 'x', sha256Hex: 'y' };
      },
    },
    records: {
      get: async () => undefined,
      record: async (_id, event) => {
        recorded.push(event);
        return undefined;
      },
    },
    audit: {
      async page(startKey) {
        pagesThisRun += 1;
        const from = startKey ? Number(startKey['at']) : 0;
        const next = from + opts.pageSize;
        return {
          records: files.slice(from, next).map(record),
          nextKey: next < files.length ? { at: next } : undefined,
        };
      },
      loadCheckpoint: async () => checkpoint,
      saveCheckpoint: async (c) => {
        checkpoint = c;
      },
    },
    counters: { record: (name) => metrics.push(name) },
    log: { debug() {}, info() {}, warn() {}, error() {} },
    outOfTime: () => opts.pagesPerRun !== undefined && pagesThisRun >= opts.pagesPerRun,
  };
  return {
    deps,
    checked,
    recorded,
    metrics,
    newRun: () => {
      pagesThisRun = 0;
    },
    checkpoint: () => checkpoint,
  };
}

describe('a scheduled run', () => {
  const settings = { rotationDays: 30, samplePercent: 0 };
  const files = ids.slice(0, 600);
  const day = dayNumber(Date.UTC(2026, 11, 6, 3));
  const todays = files.filter((id) => inTodaysSlice(id, day, 30));

  it('checks today\u2019s slice once, counts each failure as FixityFailures, and marks the pass done', async () => {
    const f = fakeDeps(files, { pageSize: 50 });
    const result = await runScheduledAudit(f.deps, settings);
    expect(f.checked.map((c) => c.fileId).sort()).toEqual([...todays].sort());
    const failing = todays.filter((id) => id.endsWith('7'));
    expect(result).toMatchObject({ day, done: true, failed: failing.length, errors: 0 });
    expect(f.metrics).toEqual(failing.map(() => 'FixityFailures'));
    expect(f.recorded.filter((e) => e.outcome === 'failed')).toHaveLength(failing.length);
    // Today's pass is done: a later run the same day reads nothing.
    f.newRun();
    const again = await runScheduledAudit(f.deps, settings);
    expect(again.checked).toEqual({ cheap: 0, deep: 0 });
    expect(f.checked).toHaveLength(todays.length);
  });

  it('resumes from its checkpoint when cut short, checking each file of the slice once over the runs', async () => {
    const f = fakeDeps(files, { pageSize: 50, pagesPerRun: 3 });
    const runs: boolean[] = [];
    for (let i = 0; i < 10 && !runs.at(-1); i++) {
      f.newRun();
      runs.push((await runScheduledAudit(f.deps, settings)).done);
    }
    expect(runs).toEqual([false, false, false, true]);
    expect(f.checked.map((c) => c.fileId).sort()).toEqual([...todays].sort());
  });

  it('finishes a pass left unfinished yesterday on yesterday\u2019s slice before today\u2019s starts', async () => {
    const f = fakeDeps(files, { pageSize: 50 });
    await f.deps.audit.saveCheckpoint({ day: day - 1, startKey: { at: 300 }, done: false });
    const first = await runScheduledAudit(f.deps, settings);
    expect(first).toMatchObject({ day: day - 1, done: true });
    const yesterdays = files.slice(300).filter((id) => inTodaysSlice(id, day - 1, 30));
    expect(f.checked.map((c) => c.fileId).sort()).toEqual([...yesterdays].sort());
    f.newRun();
    const second = await runScheduledAudit(f.deps, settings);
    expect(second).toMatchObject({ day, done: true });
    expect(
      f.checked
        .slice(yesterdays.length)
        .map((c) => c.fileId)
        .sort(),
    ).toEqual([...todays].sort());
  });

  it('goes on past a file whose check throws, counting it as an error', async () => {
    const broken = new Set([todays[0] as string]);
    const f = fakeDeps(files, { pageSize: 50, broken });
    const result = await runScheduledAudit(f.deps, settings);
    expect(result.errors).toBe(1);
    expect(result.checked.cheap).toBe(todays.length - 1);
    expect(result.done).toBe(true);
  });
});

describe('archiver verify --sample', () => {
  it('draws n distinct items of the selection (all of them when n is larger), whatever the random source', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { maxLength: 50 }), fc.nat(60), fc.integer(), (items, n, seed) => {
        let state = seed;
        const rand = (max: number) => {
          state = (state * 1_103_515_245 + 12_345) | 0;
          return Math.abs(state) % max;
        };
        const drawn = drawSample(items, n, rand);
        expect(drawn).toHaveLength(Math.min(n, items.length));
        expect(new Set(drawn).size).toBe(drawn.length);
        for (const d of drawn) expect(items).toContain(d);
      }),
    );
  });
});

describe("the function's settings (FixityConfigSchema, set from the deployment keys)", () => {
  const base = { ARCHIVE_BUCKET: 'archive', INDEX_TABLE: 'index' };
  it('reads the rotation and a fractional sample, and defaults to 30 days and 1 %', () => {
    expect(loadConfig(FixityConfigSchema, base)).toMatchObject({
      FIXITY_ROTATION_DAYS: 30,
      FIXITY_DEEP_SAMPLE_PERCENT: 1,
    });
    const set = loadConfig(FixityConfigSchema, {
      ...base,
      FIXITY_ROTATION_DAYS: '7',
      FIXITY_DEEP_SAMPLE_PERCENT: '0.5',
    });
    expect([set.FIXITY_ROTATION_DAYS, set.FIXITY_DEEP_SAMPLE_PERCENT]).toEqual([7, 0.5]);
  });

  it.each([
    ['FIXITY_ROTATION_DAYS', '0'],
    ['FIXITY_ROTATION_DAYS', '366'],
    ['FIXITY_ROTATION_DAYS', '2.5'],
    ['FIXITY_DEEP_SAMPLE_PERCENT', '-0.1'],
    ['FIXITY_DEEP_SAMPLE_PERCENT', '101'],
  ])('refuses %s=%s at cold start, naming it', (name, value) => {
    expect(() => loadConfig(FixityConfigSchema, { ...base, [name]: value })).toThrow(new RegExp(name));
  });
});
