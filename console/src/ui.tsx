/** Small pieces every screen uses: loading and error states in words, hashes, pages, dates. */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api/client.js';

export type Loaded<T> = { state: 'loading' } | { state: 'done'; value: T } | { state: 'error'; error: unknown };

/** Runs `load` whenever a dependency changes; a stale answer never overwrites a newer one. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [Loaded<T>, () => void] {
  const [state, setState] = useState<Loaded<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setState({ state: 'loading' });
    load().then(
      (value) => current && setState({ state: 'done', value }),
      (error: unknown) => current && setState({ state: 'error', error }),
    );
    return () => {
      current = false;
    };
  }, [...deps, tick]);
  return [state, () => setTick((t) => t + 1)];
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** An error in words; a route this stack does not serve is a notice, not a failure. */
export function ErrorNote({ error, what }: { error: unknown; what: string }) {
  if (error instanceof ApiError && error.kind === 'unavailable')
    return (
      <div class="notice" role="status" data-state="unavailable">
        <strong>Not available on this API.</strong> {what} is not offered by this stack, or not to your role. Ask the
        archive's operators to deploy it, or for the role that may use it.
      </div>
    );
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div class="error" role="alert" data-state="error">
      <strong>Could not load {what}.</strong> {message}
    </div>
  );
}

export function Hash({ value, label }: { value: string | null | undefined; label?: string }) {
  if (!value) return <span class="muted">not recorded</span>;
  return (
    <code class="hash" data-label={label}>
      {value}
    </code>
  );
}

export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <span class="muted">—</span>;
  const d = new Date(at);
  return Number.isNaN(d.getTime()) ? (
    <span>{at}</span>
  ) : (
    <time dateTime={at}>
      {d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')}
    </time>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status.replace(/[^a-z_]/g, '')}`}>{status}</span>;
}

export function Pager({ hasMore, onMore, busy }: { hasMore: boolean; onMore: () => void; busy?: boolean }) {
  if (!hasMore) return null;
  return (
    <button type="button" class="secondary" onClick={onMore} disabled={busy}>
      {busy ? 'Loading…' : 'Next page'}
    </button>
  );
}

export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is the child nested in the label, which associates them
    <label class="field">
      <span>{label}</span>
      {children}
      {hint ? <small class="muted">{hint}</small> : null}
    </label>
  );
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return 'unknown size';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Moves focus to the screen's heading when the screen changes, so keyboard and reader users land there. */
export function useFocusHeading(key: string): (el: HTMLHeadingElement | null) => void {
  const [el, setEl] = useState<HTMLHeadingElement | null>(null);
  useEffect(() => {
    el?.focus();
  }, [key, el]);
  return setEl;
}
