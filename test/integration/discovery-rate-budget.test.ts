import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { trackServerClock } from '../../shared/index/dynamodb-shared-budget-gate.js';
import { ensureTable } from '../../local/aws/resources.js';
import { DynamoDbRateBudget } from '../../shared/index/dynamodb-rate-budget.js';
import { createBudgetGate, DEFAULT_SIZING } from '../../shared/discovery/rate-budget.js';
import type { BudgetClass, BudgetSizing } from '../../shared/discovery/rate-budget.js';
import { createDocumentClient } from '../../shared/platform/aws-clients.js';
import { UpstreamRateLimitedError } from '../../shared/platform/errors.js';
import { noCounters } from '../../shared/platform/telemetry.js';
import { createListingClient } from '../../shared/upstream/listing-client.js';
import { createUpstreamAgent } from '../../shared/upstream/upstream-client.js';
import { localAwsFromInject, uniqueName } from '../support/local-aws.js';
import type { LocalAwsFixture } from '../support/local-aws.js';
import { recordCallsOf } from '../support/permissions/aws-call-recorder.js';
import { startTestUpstream, TEST_UPSTREAM_API_KEY } from '../support/upstream.js';

let aws: LocalAwsFixture;
let table: string;
/**
 * The budget's client, whose calls are checked as the webhook role's: of the roles that draw from the
 * budget (pollers, worker, webhook) it holds the narrowest grant, single-item reads and writes of the
 * `BUDGET#` partitions only (dynamodb:LeadingKeys), so the budget's code must stay within it.
 */
let doc: DynamoDBDocumentClient;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
// 600 requests/min in 1 s windows: 10 per window, 3 of them for pollers. (dynalite serves one
// conditional write in ~20 ms on a busy 2-core machine, so the tests keep the rate modest.)
const sizing: BudgetSizing = { ...DEFAULT_SIZING, requestsPerMinute: 600, windowMs: 1_000 };

beforeAll(async () => {
  aws = localAwsFromInject();
  table = uniqueName('budget');
  await ensureTable(aws.ddb, table);
  doc = recordCallsOf(createDocumentClient({ endpoint: aws.dynamodbEndpoint, region: aws.region }), 'webhook', {
    tables: { [table]: 'indexTable' },
  });
});
afterAll(() => {
  doc.destroy();
  aws.destroy();
});

/** `processes` budget instances (each with its own cache, as separate Lambdas), `callers` takers each, for `ms`. */
async function hammer(
  name: string,
  mix: BudgetClass[],
  processes: number,
  ms: number,
): Promise<{ cls: BudgetClass; windowStart: number }[]> {
  const grants: { cls: BudgetClass; windowStart: number }[] = [];
  const budgets = Array.from({ length: processes }, () => new DynamoDbRateBudget(doc, table, name, sizing));
  const until = Date.now() + ms;
  await Promise.all(
    budgets.flatMap((budget) =>
      mix.map(async (cls) => {
        while (Date.now() < until) {
          const take = await budget.tryTake(cls, Date.now());
          if (take.granted) grants.push({ cls, windowStart: take.windowStart });
          // As the gate does: sleep until the next window, with a little jitter.
          else await new Promise((r) => setTimeout(r, take.retryInMs + Math.random() * 20));
        }
      }),
    ),
  );
  return grants;
}

function perWindow(grants: { windowStart: number }[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const g of grants) counts.set(g.windowStart, (counts.get(g.windowStart) ?? 0) + 1);
  return counts;
}

describe('shared rate budget on dynalite', () => {
  it('never grants more than the budget in a window, however many callers race for it', async () => {
    const grants = await hammer(uniqueName('race'), ['worker', 'worker', 'worker', 'worker'], 3, 4_000);

    const counts = perWindow(grants);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(10);
    // And the budget is used: the windows between the first and the last (partial) ones are mostly full.
    const interior = [...counts.entries()]
      .sort(([a], [b]) => a - b)
      .slice(1, -1)
      .map(([, c]) => c);
    expect(interior.length).toBeGreaterThanOrEqual(2);
    expect(interior.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(interior.length * 10 * 0.7);
  });

  it('caps pollers at their share of each window, so workers still get the rest', async () => {
    // Exact, whatever dynalite's latency: every taker asks for the same window (a fixed clock, and
    // 60 s windows so that time spent queued inside a process cannot carry a take into the next one)
    // and keeps asking until it is turned away. A denial then only means the window is full for its
    // class (the conditional writes are atomic), so the counts do not depend on who ran faster.
    // 10 requests/min in 60 s windows: 10 per window, 3 of them for pollers. Nine pollers start
    // first and race the six workers: were the pollers not capped, they could take the whole window.
    const exact: BudgetSizing = { ...DEFAULT_SIZING, requestsPerMinute: 10, windowMs: 60_000 };
    const name = uniqueName('share');
    const now = Date.UTC(2030, 0, 1);
    const budgets = Array.from({ length: 3 }, () => new DynamoDbRateBudget(doc, table, name, exact));
    const grants: { cls: BudgetClass; windowStart: number }[] = [];
    const takeUntilDenied = async (budget: DynamoDbRateBudget, cls: BudgetClass) => {
      for (;;) {
        const take = await budget.tryTake(cls, now);
        if (!take.granted) return;
        grants.push({ cls, windowStart: take.windowStart });
      }
    };
    const mix: BudgetClass[] = ['poller', 'poller', 'poller', 'worker', 'worker'];
    await Promise.all(budgets.flatMap((budget) => mix.map((cls) => takeUntilDenied(budget, cls))));

    expect(new Set(grants.map((g) => g.windowStart))).toEqual(new Set([now]));
    expect(grants.filter((g) => g.cls === 'poller')).toHaveLength(3);
    expect(grants.filter((g) => g.cls === 'worker')).toHaveLength(7);
  });

  it('a 429 from upstream pauses every caller for retry-after and shrinks the budget for all', async () => {
    const name = uniqueName('throttle');
    const upstream = await startTestUpstream();
    const agent = createUpstreamAgent();
    try {
      const budget = new DynamoDbRateBudget(doc, table, name, sizing);
      const gate = createBudgetGate({
        budgets: { compliance: budget },
        cls: 'poller',
        maxWaitMs: 10_000,
        log: quiet,
        counters: noCounters,
      });
      const client = createListingClient({
        baseUrl: upstream.url,
        apiKey: TEST_UPSTREAM_API_KEY,
        dispatcher: agent,
        gate,
      });
      upstream.injectFault('', 'chats', { status: 429, retryAfterSeconds: 1 });

      await expect(client.listChats({ limit: 10 }, new AbortController().signal)).rejects.toBeInstanceOf(
        UpstreamRateLimitedError,
      );

      // Another process (its own instance, nothing cached) sees the pause and the smaller windows.
      const other = new DynamoDbRateBudget(doc, table, name, sizing);
      const paused = await other.tryTake('worker', Date.now());
      expect(paused.granted).toBe(false);
      expect(paused.retryInMs).toBeGreaterThan(300);
      expect(paused.retryInMs).toBeLessThanOrEqual(1_000);
      await new Promise((r) => setTimeout(r, paused.retryInMs + 10));
      const grants = await hammer(name, ['worker', 'worker', 'worker', 'worker'], 2, 2_500);
      // A quarter less: about 7.5 a window (fractional credits: windows of 7 and 8, the factor
      // recovering slowly meanwhile), never 10.
      const counts = [...perWindow(grants).values()];
      expect(Math.max(...counts)).toBeGreaterThanOrEqual(7);
      expect(Math.max(...counts)).toBeLessThanOrEqual(8);
    } finally {
      await upstream.close();
      await agent.close();
    }
  });
});

describe('shared rate budget: callers whose clocks and settings disagree (dynalite)', () => {
  it(
    'treats a window stored more than one window ahead of the caller ' + 'as stale, so a fast clock refuses no one',
    async () => {
      const name = uniqueName('ahead');
      const nowMs = Date.now();
      // A laptop two minutes fast takes a grant and puts the window two minutes ahead.
      const laptop = new DynamoDbRateBudget(doc, table, name, sizing, 'reader');
      expect((await laptop.tryTake('poller', nowMs + 120_000)).granted).toBe(true);

      const lambda = new DynamoDbRateBudget(doc, table, name, sizing);
      const take = await lambda.tryTake('worker', nowMs);

      expect(take).toMatchObject({ granted: true, windowStart: Math.floor(nowMs / 1_000) * 1_000 });
    },
  );

  it('makes a reader (the CLI) draw at the sizing the deployment stored, not its own', async () => {
    const name = uniqueName('sized');
    // The deployment: 60 requests a minute, one a 1 s window.
    const deployed = new DynamoDbRateBudget(doc, table, name, { ...sizing, requestsPerMinute: 60 });
    const windowStart = Math.ceil(Date.now() / 1_000) * 1_000 + 5_000;
    expect((await deployed.tryTake('worker', windowStart)).granted).toBe(true);
    // A CLI on the default 600/min, later in the same window.
    const cli = new DynamoDbRateBudget(doc, table, name, sizing, 'reader');

    const take = await cli.tryTake('worker', windowStart + 100);

    expect(take.granted).toBe(false);
    expect(cli.currentSizing().requestsPerMinute).toBe(60);
  });

  it(
    'measures the table’s clock from its answers, so a fast local ' + 'clock is corrected (within about a second)',
    async () => {
      const client = createDocumentClient({ endpoint: aws.dynamodbEndpoint, region: aws.region });
      try {
        const now = trackServerClock(client, () => Date.now() + 120_000);
        await client.send(new GetCommand({ TableName: table, Key: { pk: 'BUDGET#none', sk: 'STATE' } }));
        expect(Math.abs(now() - Date.now())).toBeLessThan(2_000);
      } finally {
        client.destroy();
      }
    },
  );
});

describe("the budget's stored use, as `archiver status` reads it", () => {
  it('readUse returns the latest window (grants in all and to pollers) and the 429 state', async () => {
    const name = uniqueName('use');
    const budget = new DynamoDbRateBudget(doc, table, name, sizing);
    expect(await budget.readUse()).toEqual({
      state: { factor: 1, shrunkAtMs: 0, pausedUntilMs: 0 },
      lastWindow: null,
    });
    const now = Date.now();
    const first = await budget.tryTake('poller', now);
    await budget.tryTake('worker', now);
    await budget.shrink(2_000, now);
    const use = await budget.readUse();
    expect(use.lastWindow).toEqual({ windowStart: first.windowStart, used: 2, pollerUsed: 1 });
    expect(use.state.factor).toBeLessThan(1);
    expect(use.state.shrunkAtMs).toBe(now);
    expect(use.state.pausedUntilMs).toBe(now + 2_000);
  });
});
