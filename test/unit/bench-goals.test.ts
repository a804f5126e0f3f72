import { describe, expect, it } from 'vitest';
import type { Row } from '../../bench/bench-context.js';
import { judgeGoals, median, medianRows } from '../../bench/report.js';

// The benchmark judges the goals on paired runs: each repetition's ingest row against the
// rclone row of the same repetition, the verdict on the median ratio.
const GB = 1e9;
function row(
  path: Row['path'],
  run: number | undefined,
  mbPerSecond: number,
  cpuSeconds: number,
  extra: Partial<Row> = {},
): Row {
  return { sizeBytes: GB, path, ok: true, mbPerSecond, cpuSeconds, ...(run === undefined ? {} : { run }), ...extra };
}

describe('bench goals', () => {
  it('pairs each ingest run with the rclone run of the same repetition and judges the median ratio', () => {
    const rows = [
      row('ingest', 1, 80, 7.0),
      row('rclone', 1, 100, 7.0), // 0.8 MB/s, 1.0 CPU
      row('ingest', 2, 90, 6.0),
      row('rclone', 2, 60, 8.0), // 1.5, 0.75
      row('ingest', 3, 100, 6.6),
      row('rclone', 3, 95, 6.0), // 1.05..., 1.1
    ];
    const g = judgeGoals(rows);
    expect(g.pairedRuns).toBe(3);
    expect(g.mbPerSecondVsRclone).toBeCloseTo(100 / 95, 5);
    expect(g.mbPerSecondVsRcloneRange).toEqual([0.8, 1.5]);
    expect(g.speedGoalMet).toBe(true);
    expect(g.cpuPerGbVsRclone).toBeCloseTo(1.0, 5);
    expect(g.cpuGoalMet).toBe(true);
    expect(g.cpuPerGbVsRcloneRange?.[1]).toBeCloseTo(1.1, 5);
  });

  it('judges a single run as before, and reports nothing without an rclone row', () => {
    expect(judgeGoals([row('ingest', undefined, 50, 7.5), row('rclone', undefined, 70, 7)])).toMatchObject({
      pairedRuns: 1,
      speedGoalMet: false,
      cpuGoalMet: false,
    });
    expect(judgeGoals([row('ingest', undefined, 50, 7.5)])).toMatchObject({
      pairedRuns: 0,
      cpuPerGbVsRclone: null,
      cpuGoalMet: null,
      speedGoalMet: null,
    });
  });

  it(
    'takes the median of an even count as the mean of the middle ' + 'two, and charts one median row per size and path',
    () => {
      expect(median([4, 1, 3, 2])).toBe(2.5);
      expect(median([])).toBeNull();
      const charted = medianRows([
        row('ingest', 1, 80, 7),
        row('ingest', 2, 100, 6),
        row('ingest', 3, 90, 9),
        row('rclone', 1, 70, 6),
      ]);
      expect(charted).toHaveLength(2);
      expect(charted[0]).toMatchObject({ path: 'ingest', mbPerSecond: 90, cpuSeconds: 7 });
      expect(charted[0]).not.toHaveProperty('run');
    },
  );
});
