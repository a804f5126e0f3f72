import { describe, expect, it } from 'vitest';
import { withInProcessRetries } from '../../shared/ingest/in-process-retry.js';
import { sleepFor } from '../../shared/platform/abortable-sleep.js';
import {
  DeadlineError,
  IntegrityError,
  UpstreamHttpError,
  UpstreamRateLimitedError,
  UpstreamTransportError,
} from '../../shared/platform/errors.js';
import { recordingTelemetry } from './fakes/recording-telemetry.js';

/** An attempt that throws the given errors in turn, then answers 'done'. */
function scripted(...errors: unknown[]) {
  let calls = 0;
  const attempt = async () => {
    const err = errors[calls++];
    if (err !== undefined) throw err;
    return 'done';
  };
  return { attempt, calls: () => calls };
}

function options(overrides: { signal?: AbortSignal; maxAttempts?: number } = {}) {
  const sleeps: number[] = [];
  const { log, logs } = recordingTelemetry();
  return {
    sleeps,
    logs,
    opts: {
      signal: overrides.signal ?? new AbortController().signal,
      receiveCount: 1,
      maxAttempts: overrides.maxAttempts ?? 3,
      log,
      random: () => 0,
      sleep: async (ms: number) => {
        sleeps.push(ms);
      },
    },
  };
}

const transport = () => new UpstreamTransportError('upstream request failed (ECONNRESET)', 'ECONNRESET');

describe('withInProcessRetries', () => {
  it('tries again after transport failures and retryable statuses, with growing waits', async () => {
    const s = scripted(transport(), new UpstreamHttpError(503, undefined, undefined, { retryable: true }));
    const { opts, sleeps, logs } = options();
    await expect(withInProcessRetries(s.attempt, opts)).resolves.toBe('done');
    expect(s.calls()).toBe(3);
    expect(sleeps).toEqual([500, 1_000]);
    expect(logs.map((l) => l.attributes['attempt'])).toEqual([1, 2]);
  });

  it('gives up after the last attempt, throwing its failure', async () => {
    const last = transport();
    const s = scripted(transport(), transport(), last);
    const { opts } = options();
    await expect(withInProcessRetries(s.attempt, opts)).rejects.toBe(last);
    expect(s.calls()).toBe(3);
  });

  it.each([
    ['a 429', new UpstreamRateLimitedError(429, undefined, undefined, { retryable: true, retryAfterMs: 1 })],
    ['a 404', new UpstreamHttpError(404, undefined, undefined, { retryable: false })],
    ['an integrity failure', new IntegrityError('size', '1', '2')],
    ['a foreign error', new Error('boom')],
  ])('throws %s at once', async (_name, err) => {
    const s = scripted(err);
    const { opts, sleeps } = options();
    await expect(withInProcessRetries(s.attempt, opts)).rejects.toBe(err);
    expect({ calls: s.calls(), sleeps }).toEqual({ calls: 1, sleeps: [] });
  });

  it('stops once the deadline has passed', async () => {
    const deadline = new AbortController();
    deadline.abort(new DeadlineError());
    const s = scripted(transport());
    const { opts } = options({ signal: deadline.signal });
    await expect(withInProcessRetries(s.attempt, opts)).rejects.toBeInstanceOf(UpstreamTransportError);
    expect(s.calls()).toBe(1);
  });
});

describe('sleepFor', () => {
  it('rejects with the signal reason as soon as it aborts', async () => {
    const controller = new AbortController();
    const waiting = sleepFor(60_000, controller.signal);
    controller.abort(new DeadlineError());
    await expect(waiting).rejects.toBeInstanceOf(DeadlineError);
  });
});
