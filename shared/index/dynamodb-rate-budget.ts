import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DISCOVERY_KEYS } from '../contracts/table-keys.js';
import { FULL_BUDGET, shrunkState, windowLimits } from '../discovery/rate-budget.js';
import type { BudgetClass, BudgetSizing, BudgetState, RateBudget, TakeResult } from '../discovery/rate-budget.js';

/** A budget's stored use: its 429 state and its latest window (start, grants in all and to pollers). */
export interface BudgetUseItems {
  state: BudgetState;
  lastWindow: { windowStart: number; used: number; pollerUsed: number } | null;
}

/**
 * A shared request budget in one DynamoDB item per upstream limit: fixed windows (1 s by default),
 * each granting requestsPerMinute × window / 60 s requests. A grant is one conditional UpdateItem
 * (`ADD used 1` if the window is current and not full); the first taker of a new window moves the
 * item to it with another conditional write. No read precedes a grant, no transaction is used (so it
 * runs on dynalite too), and there is nothing to expire: the item is reused window after window.
 *
 * Fixed windows of W seconds with L = rate × W grants each never exceed rate × (T + W) over any
 * interval T, so they stay inside a token bucket of the same rate whose capacity is at least L
 * (upstream's 600/min allows bursts of far more than 10).
 *
 * A 429 is written to a second item (factor, pause); takers read it at most once per window.
 *
 * Within one process, takes are made one at a time and a window found full is remembered until it
 * ends: callers waking together at a window's start cost one write per grant and at most one refusal
 * per process, instead of every caller's refusal (a herd that slows the grants themselves).
 */
export class DynamoDbRateBudget implements RateBudget {
  private cached: { state: BudgetState; fetchedAtMs: number } | undefined;
  private readonly fullWindow: Record<BudgetClass, number> = { worker: -1, poller: -1 };
  private queue: Promise<unknown> = Promise.resolve();
  private sizing: BudgetSizing;
  private sizingStored = false;

  /**
   * `owner`: the deployment's functions own the budget's sizing and store it on the state item (once
   * per process); a reader (the CLI, whose settings may differ from the deployment's) takes the
   * stored sizing over its own, so it can never draw at another rate than the deployment set.
   */
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly name: string,
    sizing: BudgetSizing,
    private readonly role: 'owner' | 'reader' = 'owner',
  ) {
    this.sizing = sizing;
  }

  /** The sizing in force (the stored one, for a reader that has read it). */
  currentSizing(): BudgetSizing {
    return this.sizing;
  }

  tryTake(cls: BudgetClass, nowMs: number): Promise<TakeResult> {
    // Time spent queued behind this process's other takes counts: take at the later of the two.
    const startedAt = Date.now();
    const take = this.queue.then(() => this.take(cls, Math.max(nowMs, nowMs + (Date.now() - startedAt))));
    this.queue = take.catch(() => undefined);
    return take;
  }

  private async take(cls: BudgetClass, nowMs: number): Promise<TakeResult> {
    if (this.role === 'owner' && !this.sizingStored) await this.storeSizing();
    const state = await this.state(nowMs);
    const windowStart = Math.floor(nowMs / this.sizing.windowMs) * this.sizing.windowMs;
    if (nowMs < state.pausedUntilMs) return { granted: false, windowStart, retryInMs: state.pausedUntilMs - nowMs };
    const limits = windowLimits(state, this.sizing, nowMs);
    const nextWindow = { granted: false, windowStart, retryInMs: windowStart + this.sizing.windowMs - nowMs };
    // This window's credit holds no whole request for this class (a budget under one a window).
    if (limits.total === 0 || (cls === 'poller' && limits.poller === 0)) return nextWindow;
    if (this.fullWindow[cls] === windowStart) return nextWindow;
    // Add to the current window; if the window is stale, move it; if another taker moved it first,
    // add once more. Anything else means the window is full (or ahead of this clock): wait for the next.
    if (await this.add(cls, windowStart, limits)) return { granted: true, windowStart, retryInMs: 0 };
    if (await this.roll(cls, windowStart)) return { granted: true, windowStart, retryInMs: 0 };
    if (await this.add(cls, windowStart, limits)) return { granted: true, windowStart, retryInMs: 0 };
    this.fullWindow[cls] = windowStart;
    // A window full for workers is full for pollers too.
    if (cls === 'worker') this.fullWindow.poller = windowStart;
    return { granted: false, windowStart, retryInMs: windowStart + this.sizing.windowMs - nowMs };
  }

  async shrink(retryAfterMs: number | undefined, nowMs: number): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const res = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: DISCOVERY_KEYS.budgetState(this.name), ConsistentRead: true }),
      );
      const current = toState(res.Item);
      const next = shrunkState(current, this.sizing, retryAfterMs, nowMs);
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: DISCOVERY_KEYS.budgetState(this.name),
            // An update, not a put: the stored sizing stays.
            UpdateExpression: 'SET factor = :f, shrunkAtMs = :s, pausedUntilMs = :p',
            // Optimistic: a concurrent 429 recorded in between is read again, not overwritten.
            ConditionExpression: 'attribute_not_exists(shrunkAtMs) OR shrunkAtMs = :prev',
            ExpressionAttributeValues: {
              ':prev': current.shrunkAtMs,
              ':f': next.factor,
              ':s': next.shrunkAtMs,
              ':p': next.pausedUntilMs,
            },
          }),
        );
        this.cached = { state: next, fetchedAtMs: nowMs };
        return;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    }
  }

  /**
   * What the budget's two items hold now, for `archiver status`: the 429 state, and the latest window
   * anyone drew from (null when none has). The item layout stays in this module.
   */
  async readUse(): Promise<BudgetUseItems> {
    const [windowItem, stateItem] = await Promise.all([
      this.doc.send(new GetCommand({ TableName: this.table, Key: DISCOVERY_KEYS.budgetWindow(this.name) })),
      this.doc.send(new GetCommand({ TableName: this.table, Key: DISCOVERY_KEYS.budgetState(this.name) })),
    ]);
    const w = windowItem.Item ?? {};
    const num = (k: string): number | undefined =>
      typeof w[k] === 'number' && Number.isFinite(w[k]) ? (w[k] as number) : undefined;
    const windowStart = num('windowStart');
    return {
      state: toState(stateItem.Item),
      lastWindow:
        windowStart === undefined ? null : { windowStart, used: num('used') ?? 0, pollerUsed: num('pollerUsed') ?? 0 },
    };
  }

  private async state(nowMs: number): Promise<BudgetState> {
    if (this.cached && nowMs - this.cached.fetchedAtMs < this.sizing.windowMs) return this.cached.state;
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: DISCOVERY_KEYS.budgetState(this.name) }),
    );
    const state = toState(res.Item);
    if (this.role === 'reader') this.sizing = { ...this.sizing, ...storedSizing(res.Item) };
    this.cached = { state, fetchedAtMs: nowMs };
    return state;
  }

  /** The owner writes the deployment's sizing on the state item, leaving the shrink state alone. */
  private async storeSizing(): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: DISCOVERY_KEYS.budgetState(this.name),
        UpdateExpression: 'SET requestsPerMinute = :r, windowMs = :w, pollerShare = :p',
        ExpressionAttributeValues: {
          ':r': this.sizing.requestsPerMinute,
          ':w': this.sizing.windowMs,
          ':p': this.sizing.pollerShare,
        },
      }),
    );
    this.sizingStored = true;
  }

  private async add(
    cls: BudgetClass,
    windowStart: number,
    limits: { total: number; poller: number },
  ): Promise<boolean> {
    const poller = cls === 'poller';
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: DISCOVERY_KEYS.budgetWindow(this.name),
        UpdateExpression: poller ? 'ADD used :one, pollerUsed :one' : 'ADD used :one',
        ConditionExpression: poller
          ? 'windowStart = :ws AND used < :total AND pollerUsed < :poller'
          : 'windowStart = :ws AND used < :total',
        ExpressionAttributeValues: {
          ':one': 1,
          ':ws': windowStart,
          ':total': limits.total,
          ...(poller ? { ':poller': limits.poller } : {}),
        },
      }),
    );
  }

  private async roll(cls: BudgetClass, windowStart: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.table,
        Key: DISCOVERY_KEYS.budgetWindow(this.name),
        UpdateExpression: 'SET windowStart = :ws, used = :one, pollerUsed = :p',
        // A stored window more than one window ahead of this clock is stale (a caller whose clock ran
        // fast put it there): moved back, so it cannot refuse everyone until real time catches up.
        ConditionExpression: 'attribute_not_exists(windowStart) OR windowStart < :ws OR windowStart > :ahead',
        ExpressionAttributeValues: {
          ':ws': windowStart,
          ':ahead': windowStart + this.sizing.windowMs,
          ':one': 1,
          ':p': cls === 'poller' ? 1 : 0,
        },
      }),
    );
  }

  private async conditional(command: UpdateCommand): Promise<boolean> {
    try {
      await this.doc.send(command);
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }
}

/** The sizing the deployment stored on the state item, where it did (each field checked). */
function storedSizing(item: Record<string, unknown> | undefined): Partial<BudgetSizing> {
  if (!item) return {};
  const positive = (k: string) =>
    typeof item[k] === 'number' && Number.isFinite(item[k]) && item[k] > 0 ? item[k] : undefined;
  const rpm = positive('requestsPerMinute');
  const windowMs = positive('windowMs');
  const share = positive('pollerShare');
  return {
    ...(rpm === undefined ? {} : { requestsPerMinute: rpm }),
    ...(windowMs === undefined ? {} : { windowMs }),
    ...(share === undefined || share > 1 ? {} : { pollerShare: share }),
  };
}

function toState(item: Record<string, unknown> | undefined): BudgetState {
  if (!item) return FULL_BUDGET;
  const num = (k: string, d: number) => (typeof item[k] === 'number' && Number.isFinite(item[k]) ? item[k] : d);
  return { factor: num('factor', 1), shrunkAtMs: num('shrunkAtMs', 0), pausedUntilMs: num('pausedUntilMs', 0) };
}
