import { describe, expect, it, vi } from 'vitest';
import { createPowertools } from '../../shared/platform/powertools.js';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAMES } from '../../shared/contracts/metric-names.js';

interface Emf {
  _aws: {
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

/** Runs `act`, returning every EMF document Powertools wrote to stdout meanwhile. */
function captureEmf(act: () => void): Emf[] {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    act();
  } finally {
    spy.mockRestore();
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Emf);
}

describe('Powertools metrics adapter', () => {
  it('emits in the namespace and with the service dimension the alarms and dashboard watch', () => {
    const { metrics, counters } = createPowertools(SERVICE_NAMES.ingest);
    const docs = captureEmf(() => {
      counters.record(METRIC.integrityFailures, 1, 'Count');
      counters.record(METRIC.bytesArchived, 2048, 'Bytes');
      metrics.publishStoredMetrics();
    });
    const doc = docs.find((d) => METRIC.integrityFailures in d);
    expect(doc?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [['service']],
      Metrics: expect.arrayContaining([
        { Name: METRIC.integrityFailures, Unit: 'Count' },
        { Name: METRIC.bytesArchived, Unit: 'Bytes' },
      ]),
    });
    expect(doc?.['service']).toBe(SERVICE_NAMES.ingest);
    expect(doc?.[METRIC.bytesArchived]).toBe(2048);
  });

  it('emits a final outcome with its reason as an extra dimension, apart from the other metrics', () => {
    const { counters } = createPowertools(SERVICE_NAMES.ingest);
    const docs = captureEmf(() =>
      counters.record(METRIC.finalOutcomes, 1, 'Count', { name: 'reason', value: 'not_found' }),
    );
    expect(docs).toHaveLength(1);
    expect(docs[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'reason']]);
    expect(docs[0]?.['reason']).toBe('not_found');
  });
});
