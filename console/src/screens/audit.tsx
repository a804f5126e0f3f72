/** Screen 8: the access trail, filtered by person, file and period. */
import { useState } from 'preact/hooks';
import type { ApiClient, AuditEvent, AuditFilters } from '../api/client.js';
import { fileHref, href } from '../router.js';
import { ErrorNote, Field, Loading, Pager, useLoad, When } from '../ui.js';

export function AuditScreen({
  api,
  query,
  headingRef,
}: {
  api: ApiClient;
  query: URLSearchParams;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const filters: AuditFilters = {};
  for (const k of ['principal', 'fileId', 'from', 'to'] as const) {
    const v = query.get(k)?.trim();
    if (v) filters[k] = v;
  }
  const [draft, setDraft] = useState<Record<string, string>>({ ...filters });
  const set = (k: string) => (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });
  return (
    <section>
      <h1 tabIndex={-1} ref={headingRef}>
        Access trail
      </h1>
      <form
        class="filters"
        aria-label="Trail filters"
        onSubmit={(e) => {
          e.preventDefault();
          window.location.hash = href('/audit', draft);
        }}
      >
        <Field label="Person (principal ARN or e-mail)">
          <input value={draft['principal'] ?? ''} onInput={set('principal')} />
        </Field>
        <Field label="File id">
          <input value={draft['fileId'] ?? ''} onInput={set('fileId')} />
        </Field>
        <Field label="From">
          <input type="date" value={draft['from'] ?? ''} onInput={set('from')} />
        </Field>
        <Field label="To">
          <input type="date" value={draft['to'] ?? ''} onInput={set('to')} />
        </Field>
        <div class="actions">
          <button type="submit">Show</button>
        </div>
      </form>
      <Trail api={api} filters={filters} key={JSON.stringify(filters)} />
    </section>
  );
}

function Trail({ api, filters }: { api: ApiClient; filters: AuditFilters }) {
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [first] = useLoad(async () => {
    const page = await api.listAudit(filters, { limit: 50 });
    setEvents(page.events);
    setCursor(page.nextCursor);
    return page;
  }, [JSON.stringify(filters)]);
  if (first.state === 'loading') return <Loading what="the trail" />;
  if (first.state === 'error') return <ErrorNote error={first.error} what="The access trail" />;
  if (events.length === 0) return <p data-state="empty">No access matches these filters.</p>;
  return (
    <div data-state="results">
      <div class="table-wrap">
        <table>
          <caption>{events.length} event(s)</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">File</th>
              <th scope="col">Result</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e, i) => (
              <tr key={`${e.at}-${i}`}>
                <td>
                  <When at={e.at} />
                </td>
                <td>{e.principal}</td>
                <td>{e.action}</td>
                <td>{e.fileId ? <a href={fileHref(e.fileId)}>{e.fileId}</a> : <span class="muted">—</span>}</td>
                <td>
                  {e.status}
                  {e.errorType ? ` ${e.errorType}` : ''}
                </td>
                <td>{e.sourceIp ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pager
        hasMore={cursor !== undefined}
        busy={busy}
        onMore={() => {
          setBusy(true);
          api
            .listAudit(filters, { limit: 50, ...(cursor ? { cursor } : {}) })
            .then((page) => {
              setEvents([...events, ...page.events]);
              setCursor(page.nextCursor);
            })
            .finally(() => setBusy(false));
        }}
      />
    </div>
  );
}
