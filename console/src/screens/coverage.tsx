/** Screen 7: discovery coverage, a timeline per poller of the periods covered and the gaps between. */
import { POLLER_SOURCES } from '../../../shared/contracts/discovery-ledger.js';
import type { LedgerRecord, PollerSource } from '../../../shared/contracts/discovery-ledger.js';
import type { ApiClient } from '../api/client.js';
import { coverageOf, timeRange } from '../coverage-model.js';
import type { SourceCoverage } from '../coverage-model.js';
import { ErrorNote, Loading, useLoad, When } from '../ui.js';
import { chatHref } from '../router.js';

/** Enough runs for a day of the one-minute pollers' history at most; older runs are for `archiver ledger`. */
const MAX_PAGES = 3;

async function loadRuns(api: ApiClient, source: PollerSource): Promise<LedgerRecord[]> {
  const runs: LedgerRecord[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < MAX_PAGES; i++) {
    const page = await api.listRuns(source, { limit: 100, ...(cursor ? { cursor } : {}) });
    runs.push(...page.runs);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return runs;
}

export function CoverageScreen({
  api,
  headingRef,
}: {
  api: ApiClient;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const [data] = useLoad(async () => {
    const now = Date.now();
    const all = await Promise.all(POLLER_SOURCES.map(async (s) => coverageOf(s, await loadRuns(api, s), now)));
    return { now, all };
  }, []);
  return (
    <section>
      <h1 tabIndex={-1} ref={headingRef}>
        Discovery coverage
      </h1>
      <p class="muted">
        Each poller's runs form a chain: each starts from the cursor the previous one ended at. Green is a period the
        chain covers; red hatching is a gap (a broken cursor or window, a rejected cursor, or no run for more than 30
        minutes); dark marks are failed runs.
      </p>
      {data.state === 'loading' ? <Loading what="the discovery ledger" /> : null}
      {data.state === 'error' ? <ErrorNote error={data.error} what="the discovery ledger" /> : null}
      {data.state === 'done' ? (
        <>
          <CoverageChart coverages={data.value.all} now={data.value.now} />
          {data.value.all.map((c) => (
            <SourceDetail key={c.source} c={c} />
          ))}
        </>
      ) : null}
    </section>
  );
}

const W = 900;
const ROW = 48;
const LEFT = 110;
const TOP = 24;

function CoverageChart({ coverages, now }: { coverages: SourceCoverage[]; now: number }) {
  const range = timeRange(coverages, now);
  const x = (t: number): number => LEFT + ((t - range.from) / (range.to - range.from)) * (W - LEFT - 10);
  const h = TOP + coverages.length * ROW + 24;
  const summary = coverages
    .map((c) => `${c.source}: ${c.runs.length} runs, ${c.gaps.length} gaps, ${c.failedRuns.length} failed runs`)
    .join('; ');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => range.from + f * (range.to - range.from));
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${W} ${h}`}
        role="img"
        aria-labelledby="coverage-title coverage-desc"
        data-testid="coverage-chart"
      >
        <title id="coverage-title">Discovery coverage by poller</title>
        <desc id="coverage-desc">{summary}</desc>
        <defs>
          <pattern id="gap-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" fill="#fde2e1" />
            <line x1="0" y1="0" x2="0" y2="6" stroke="#b3261e" stroke-width="3" />
          </pattern>
        </defs>
        {coverages.map((c, i) => {
          const y = TOP + i * ROW;
          return (
            <g key={c.source} data-source={c.source}>
              <text x={0} y={y + 22} class="chart-label">
                {c.source}
              </text>
              <rect x={LEFT} y={y + 8} width={W - LEFT - 10} height={20} fill="#f1f3f5" />
              {c.covered.map((s) => (
                <rect
                  key={`c${s.from}`}
                  class="covered"
                  x={x(s.from)}
                  y={y + 8}
                  width={Math.max(2, x(s.to) - x(s.from))}
                  height={20}
                  fill="#1b7f3b"
                >
                  <title>
                    covered {new Date(s.from).toISOString()} – {new Date(s.to).toISOString()}
                  </title>
                </rect>
              ))}
              {c.gaps.map((g, gi) => {
                const from = g.from ? Date.parse(g.from) : range.from;
                const to = g.to ? Date.parse(g.to) : range.to;
                return (
                  <rect
                    key={`g${gi}`}
                    class="gap"
                    x={x(from) - 1}
                    y={y + 4}
                    width={Math.max(3, x(to) - x(from) + 2)}
                    height={28}
                    fill="url(#gap-hatch)"
                  >
                    <title>
                      gap ({g.kind}): {g.detail}
                    </title>
                  </rect>
                );
              })}
              {c.failedRuns.map((r) => (
                <rect
                  key={r.runId}
                  class="failed-run"
                  x={x(Date.parse(r.startedAt)) - 2}
                  y={y + 2}
                  width={4}
                  height={32}
                  fill="#202124"
                >
                  <title>
                    run {r.runId} {r.ending}: {r.error ?? ''}
                  </title>
                </rect>
              ))}
              {c.runs.length === 0 ? <rect x={LEFT + 4} y={y + 11} width={110} height={16} fill="#fff" /> : null}
              {c.runs.length === 0 ? (
                <text x={LEFT + 8} y={y + 23} class="chart-note">
                  no run recorded
                </text>
              ) : null}
            </g>
          );
        })}
        {ticks.map((t, i) => (
          <text
            key={t}
            x={x(t)}
            y={h - 6}
            class="chart-axis"
            text-anchor={i === 0 ? 'start' : i === ticks.length - 1 ? 'end' : 'middle'}
          >
            {tickLabel(t, range.to - range.from)}
          </text>
        ))}
      </svg>
      <figcaption class="legend">
        <span class="key key-covered" aria-hidden="true" /> covered <span class="key key-gap" aria-hidden="true" /> gap{' '}
        <span class="key key-failed" aria-hidden="true" /> failed run · times in UTC
      </figcaption>
    </figure>
  );
}

function SourceDetail({ c }: { c: SourceCoverage }) {
  const invalid = c.runs.filter((r) => r.invalidRecords > 0);
  // Each run lists the chats it could not read (one bad chat never stops the rest); newest run first.
  const withFailures = [...c.runs].reverse().filter((r) => (r.unitFailures?.length ?? 0) > 0);
  return (
    <section class="source-detail" aria-labelledby={`src-${c.source}`}>
      <h2 id={`src-${c.source}`}>
        {c.source}: {c.runs.length} runs, {c.gaps.length} gap{c.gaps.length === 1 ? '' : 's'}, {c.failedRuns.length}{' '}
        failed
      </h2>
      {c.gaps.length > 0 ? (
        <ul>
          {c.gaps.map((g, i) => (
            <li key={`${g.kind}-${i}`}>
              Gap ({g.kind}) <When at={g.from} /> – <When at={g.to} />: {g.detail}
            </li>
          ))}
        </ul>
      ) : null}
      {c.failedRuns.length > 0 ? (
        <ul>
          {c.failedRuns.map((r) => (
            <li key={r.runId}>
              Run <code>{r.runId}</code> <When at={r.startedAt} /> ended <strong>{r.ending}</strong>
              {r.error ? `: ${r.error}` : ''}
              {r.lastRequestId ? ` (last upstream request ${r.lastRequestId})` : ''}
            </li>
          ))}
        </ul>
      ) : null}
      {withFailures.length > 0 ? (
        <div class="table-wrap" data-state="unit-failures">
          <table>
            <caption>Chats a run could not read ({c.source})</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Chat</th>
                <th scope="col">Error</th>
                <th scope="col">Upstream request id</th>
              </tr>
            </thead>
            <tbody>
              {withFailures.flatMap((r) =>
                (r.unitFailures ?? []).map((f) => (
                  <tr key={`${r.runId}-${f.id}`}>
                    <td>
                      <When at={r.startedAt} />
                    </td>
                    <td>
                      <a href={chatHref(f.id)}>
                        <code>{f.id}</code>
                      </a>
                    </td>
                    <td>{f.error}</td>
                    <td>{f.requestId ? <code>{f.requestId}</code> : <span class="muted">none</span>}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
          {withFailures.some((r) => (r.unitFailureCount ?? 0) > (r.unitFailures?.length ?? 0)) ? (
            <p class="muted">
              A run keeps the first failures only; the count of each run is{' '}
              {withFailures.map((r) => `${r.unitFailureCount ?? r.unitFailures?.length ?? 0}`).join(', ')}.
            </p>
          ) : null}
        </div>
      ) : null}
      {invalid.length > 0 ? (
        <p>
          {invalid.reduce((n, r) => n + r.invalidRecords, 0)} item(s) upstream sent in {invalid.length} run(s) did not
          match the documented shape and were not enqueued (see the pollers' logs for their ids).
        </p>
      ) : null}
    </section>
  );
}

/** Axis labels in UTC, as fine as the span needs: seconds within an hour, minutes within two days. */
function tickLabel(t: number, spanMs: number): string {
  const iso = new Date(t).toISOString();
  if (spanMs <= 3_600_000) return iso.slice(11, 19);
  if (spanMs <= 2 * 86_400_000) return iso.slice(5, 16).replace('T', ' ');
  return iso.slice(0, 10);
}
