/**
 * What `archiver backfill` shows while it runs. On a terminal: a live bar (cli-progress) with chats
 * scanned, files enqueued, rate and ETA. Otherwise (a pipe, a log file, CI): plain lines, one per
 * listing page and at most one every few seconds in between, no control characters.
 *
 * Upstream gives no totals, so progress is measured in time: chats come ordered by `created_at`
 * inside [since, until), and the share of that period already walked is the estimate.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { BackfillCheckpoint } from '../shared/contracts/backfill-checkpoint.js';
import type { CliIo } from './io.js';
import { formatDuration } from './render.js';

export interface Estimate {
  /** Share of the period walked, 0-1; null when it cannot be told (no chat read yet). */
  fraction: number | null;
  /** Chats per second in this session. */
  rate: number;
  /** Seconds left at this session's pace; null when unknown. */
  etaSeconds: number | null;
}

/** Where a session began: its time and the share already walked (a resumed backfill starts part-way). */
export interface SessionStart {
  atMs: number;
  chats: number;
  fraction: number | null;
}

export function fractionOf(cp: BackfillCheckpoint): number | null {
  const start = Date.parse(cp.query.since ?? cp.firstChatCreatedAt ?? '');
  const end = Date.parse(cp.query.until ?? '');
  const at = Date.parse(cp.lastChatCreatedAt ?? '');
  if (cp.completedAt) return 1;
  if (!Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(at) || end <= start) return null;
  return Math.min(1, Math.max(0, (at - start) / (end - start)));
}

export function estimate(cp: BackfillCheckpoint, session: SessionStart, nowMs: number): Estimate {
  const elapsed = Math.max(0.001, (nowMs - session.atMs) / 1000);
  const rate = (cp.chatsScanned - session.chats) / elapsed;
  const fraction = fractionOf(cp);
  let etaSeconds: number | null = null;
  if (fraction !== null) {
    const gained = fraction - (session.fraction ?? 0);
    if (fraction >= 1) etaSeconds = 0;
    else if (gained > 0) etaSeconds = ((1 - fraction) / gained) * elapsed;
  }
  return { fraction, rate, etaSeconds };
}

export interface ProgressView {
  update(cp: BackfillCheckpoint, event: 'resumed' | 'started' | 'chat' | 'page'): void;
  stop(): void;
}

/** Chooses the live bar on a terminal, plain lines elsewhere, nothing with --json. */
export function createProgressView(io: CliIo, mode: 'auto' | 'plain' | 'none'): ProgressView {
  if (mode === 'none') return { update: () => undefined, stop: () => undefined };
  return mode === 'auto' && io.stdout.isTTY ? liveBar(io) : plainLines(io);
}

function describeStart(cp: BackfillCheckpoint, resumed: boolean): string {
  const users = cp.query.userIds.length > 0 ? cp.query.userIds.join(', ') : 'every user';
  const what = `chats created ${cp.query.since ?? 'since the start'} to ${cp.query.until}, ${users}`;
  return resumed
    ? `resuming the backfill of ${what}: ${cp.chatsScanned} chats scanned, ${cp.filesEnqueued} files enqueued so far`
    : `backfill of ${what}`;
}

function plainLines(io: CliIo): ProgressView {
  let session: SessionStart | undefined;
  let lastLineMs = 0;
  return {
    update(cp, event) {
      const now = io.now();
      if (event === 'started' || event === 'resumed') {
        session = { atMs: now, chats: cp.chatsScanned, fraction: fractionOf(cp) };
        io.out(`backfill: ${describeStart(cp, event === 'resumed')}`);
        return;
      }
      if (event === 'chat' && now - lastLineMs < 5_000) return;
      lastLineMs = now;
      const e = estimate(cp, session ?? { atMs: now, chats: 0, fraction: null }, now);
      io.out(
        `backfill: ${cp.chatsScanned} chats scanned, ${cp.filesEnqueued} files enqueued, ${e.rate.toFixed(1)} chats/s` +
          (e.fraction === null ? '' : `, ${Math.floor(e.fraction * 100)}% of the period`) +
          (e.etaSeconds === null ? '' : `, ETA ${formatDuration(e.etaSeconds)}`),
      );
    },
    stop: () => undefined,
  };
}

function liveBar(io: CliIo): ProgressView {
  const bar = new SingleBar(
    {
      format: 'backfill [{bar}] {percent} | chats {chats} | files {files} | {rate} chats/s | ETA {eta}',
      stream: io.stdout,
      hideCursor: true,
      fps: 10,
      barsize: 24,
      linewrap: false,
    },
    Presets.shades_classic,
  );
  let session: SessionStart | undefined;
  let started = false;
  const payload = (cp: BackfillCheckpoint) => {
    const e = estimate(cp, session ?? { atMs: io.now(), chats: 0, fraction: null }, io.now());
    return {
      value: Math.round((e.fraction ?? 0) * 1000),
      tokens: {
        percent: e.fraction === null ? '  ?%' : `${String(Math.floor(e.fraction * 100)).padStart(3)}%`,
        chats: cp.chatsScanned,
        files: cp.filesEnqueued,
        rate: e.rate.toFixed(1),
        eta: e.etaSeconds === null ? '-' : formatDuration(e.etaSeconds),
      },
    };
  };
  return {
    update(cp, event) {
      if (event === 'started' || event === 'resumed') {
        session = { atMs: io.now(), chats: cp.chatsScanned, fraction: fractionOf(cp) };
        io.out(describeStart(cp, event === 'resumed'));
        const p = payload(cp);
        bar.start(1000, p.value, p.tokens);
        started = true;
        return;
      }
      const p = payload(cp);
      bar.update(p.value, p.tokens);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
