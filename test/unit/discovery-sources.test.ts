import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DISCOVERY_SOURCES,
  type DiscoverySource,
  IDLE_POLLING_MAX_SHARE,
  idleRequestsPerMinute,
  ownPartitions,
  POLLER_SOURCES,
  REPEAT_MARGIN_SECONDS,
  repeatWindowMs,
} from '../../shared/contracts/discovery-sources.js';
import { DISCOVERY_SERVICE_NAMES } from '../../shared/contracts/metric-names.js';
import { DiscoveryConfigSchema } from '../../shared/contracts/lambda-environment.js';

// The poller registry is the one list of pollers: these tests check what every entry must hold, so a
// new poller (one entry) is checked the same way.
const entries = POLLER_SOURCES.map((source) => [source, DISCOVERY_SOURCES[source] as DiscoverySource] as const);

describe('the poller registry', () => {
  it("names each poller's Lambda entry file, which builds that poller's handler", () => {
    for (const [source, spec] of entries) {
      expect(existsSync(spec.lambdaEntry), spec.lambdaEntry).toBe(true);
      expect(readFileSync(spec.lambdaEntry, 'utf8')).toContain(`createPollerHandler('${source}')`);
    }
  });

  it('gives each poller its own construct id, service name and Lambda entry', () => {
    for (const field of ['constructId', 'serviceName', 'lambdaEntry'] as const) {
      const values = entries.map(([, spec]) => spec[field]);
      expect(new Set(values).size, field).toBe(values.length);
    }
    expect(Object.keys(DISCOVERY_SERVICE_NAMES)).toEqual([...POLLER_SOURCES]);
  });

  it('keeps idle polling of the Compliance API within 2% of the default 600 requests a minute (12 a minute)', () => {
    const defaultBudget = DiscoveryConfigSchema.shape.COMPLIANCE_REQUESTS_PER_MINUTE.parse(undefined);
    expect(defaultBudget).toBe(600);
    const idle = idleRequestsPerMinute('compliance');
    // chats every 15 s (4) + activities every 30 s (2) + the projects poller's change poll every 20 s (3),
    // one projects page each. Its full walk every 15 minutes ((N + 1) / 15 with N projects) is on top.
    expect(idle).toBe(4 + 2 + 3);
    expect(idle).toBeLessThanOrEqual(IDLE_POLLING_MAX_SHARE * defaultBudget);
  });

  it('keeps idle polling of the Files API within 2% of its default 100 requests a minute', () => {
    const defaultBudget = DiscoveryConfigSchema.shape.FILES_API_REQUESTS_PER_MINUTE.parse(undefined);
    expect(idleRequestsPerMinute('files_api')).toBeLessThanOrEqual(IDLE_POLLING_MAX_SHARE * defaultBudget);
  });

  it('counts a repeating poller by its poll interval and a one-pass poller by its schedule', () => {
    expect(idleRequestsPerMinute('compliance', ['chats'])).toBe(60 / 15);
    expect(idleRequestsPerMinute('files_api', ['files_api'])).toBe(1 / 15);
    expect(idleRequestsPerMinute('compliance', ['files_api'])).toBe(0);
  });

  it('lets an invocation poll until shortly before the next scheduled one, and a one-pass poller once', () => {
    expect(repeatWindowMs(1, 15)).toBe((60 - REPEAT_MARGIN_SECONDS) * 1000);
    expect(repeatWindowMs(2, 15)).toBe((120 - REPEAT_MARGIN_SECONDS) * 1000);
    expect(repeatWindowMs(15, null)).toBe(0);
  });

  it(
    'scopes every poller to the budget by prefix and to its own lease, ' + 'checkpoint and ledger partitions exactly',
    () => {
      for (const [source, spec] of entries) {
        expect(spec.tableKeyPrefixes.items, source).toContain('BUDGET#');
        // No prefix reaches every poller's lease, checkpoint or ledger: those are granted by exact partition.
        for (const prefix of ['POLLER#', 'LEDGER#']) expect(spec.tableKeyPrefixes.items, source).not.toContain(prefix);
        expect(ownPartitions(source), source).toEqual({ state: `POLLER#${source}`, ledger: `LEDGER#${source}` });
        for (const prefix of [...spec.tableKeyPrefixes.items, ...spec.tableKeyPrefixes.batchGet])
          expect(prefix, source).toMatch(/^[A-Z]+#$/);
      }
    },
  );
});
