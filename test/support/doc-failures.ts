import { readFileSync } from 'node:fs';

/** One row of the failure table in docs/failures.md. */
export interface FailureRow {
  failure: string;
  /** The decision kind: the first `code` span of the decision cell. */
  decision: string;
  queue: string;
  /** The metric name, or undefined for "—". */
  metric: string | undefined;
}

/** The queue column's phrases; each names one set of queue actions. */
export const QUEUE_PHRASES = {
  inProcess: 'none: the next attempt follows in this invocation',
  backoff: 'not acknowledged; hidden 30 s, doubling with each receive up to 15 min',
  delay: 'not acknowledged; hidden for that delay',
  deferCopy: 'a copy delayed by that much (at most 15 min) is sent back with `deferrals` one higher, then acknowledged',
  ack: 'acknowledged',
  redrive: "not acknowledged, visibility unchanged: reaches the DLQ after the queue's max receive count",
  deadLetterNow: 'copied to the DLQ with a `rejectReason` attribute, then acknowledged',
} as const;

/** Where the failure table lives: the tests read the document itself, so the document is the specification. */
export const FAILURES_DOC = new URL('../../docs/failures.md', import.meta.url);

/** Reads the table whose first header cell is `failure` in docs/failures.md (cells may be padded). */
export function readFailureTable(): FailureRow[] {
  const lines = readFileSync(FAILURES_DOC, 'utf8').split('\n');
  const first = lines.findIndex((l) => /^\|\s*failure\s*\|/.test(l));
  if (first < 0) throw new Error('docs/failures.md has no failure table');
  const rows: FailureRow[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .slice(1, -1)
      .split(' | ')
      .map((c) => c.trim());
    if (cells.length !== 4) throw new Error(`a Failures row without four cells: ${line}`);
    const [failure = '', decisionCell = '', queue = '', metricCell = ''] = cells;
    const decision = /`([^`]+)`/.exec(decisionCell)?.[1];
    if (!decision) throw new Error(`a Failures row names no decision: ${line}`);
    rows.push({ failure, decision, queue, metric: metricCell === '—' ? undefined : /`([^`]+)`/.exec(metricCell)?.[1] });
  }
  return rows;
}
