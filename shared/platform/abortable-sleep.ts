/**
 * Waits `ms`, or rejects with the signal's own reason as soon as it aborts, so a deadline's
 * DeadlineError (not a generic AbortError, as node:timers/promises would give) reaches the caller.
 */
export function sleepFor(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
