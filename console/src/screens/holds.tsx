/** Screen 5: legal holds (matters): place one on a scope, release it, list them with their sweep's progress. */
import { useEffect, useState } from 'preact/hooks';
import type { ApiClient, Matter } from '../api/client.js';
import { ErrorNote, Loading, useLoad, When } from '../ui.js';
import { describeScope, ScopeForm } from './scope-form.js';

/** How often the list is read again while a sweep is still running. */
const POLL_MS = 2000;

export function HoldsScreen({
  api,
  headingRef,
}: {
  api: ApiClient;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const [holds, reload] = useLoad(() => api.listHolds(), []);
  const [actionError, setActionError] = useState<unknown>();
  const sweeping = holds.state === 'done' && holds.value.matters.some((m) => !m.progress.done);
  useEffect(() => {
    if (!sweeping) return;
    const t = setTimeout(reload, POLL_MS);
    return () => clearTimeout(t);
  }, [holds]);
  const act = async (f: () => Promise<unknown>): Promise<void> => {
    try {
      setActionError(undefined);
      await f();
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  return (
    <section>
      <h1 tabIndex={-1} ref={headingRef}>
        Legal holds
      </h1>
      {holds.state === 'loading' ? <Loading what="holds" /> : null}
      {holds.state === 'error' ? <ErrorNote error={holds.error} what="Legal holds" /> : null}
      {holds.state === 'done' ? (
        <>
          {holds.value.matters.length === 0 ? (
            <p data-state="empty">No legal hold has been placed.</p>
          ) : (
            <HoldTable matters={holds.value.matters} onRelease={(id) => void act(() => api.releaseHold(id))} />
          )}
          <h2>Place a hold</h2>
          <p class="muted">
            A hold keeps every archived version in scope from deletion until it is released (S3 Object Lock legal hold),
            whatever the retention; files archived later that fall in scope are held as they arrive.
          </p>
          <ScopeForm
            kind="hold"
            submitLabel="Place hold"
            onSubmit={(input) =>
              act(() =>
                input.scope
                  ? api.placeHold({ matterId: input.label, reason: input.reason, scope: input.scope })
                  : Promise.resolve(),
              )
            }
          />
        </>
      ) : null}
      {actionError ? <ErrorNote error={actionError} what="the hold" /> : null}
    </section>
  );
}

function HoldTable({ matters, onRelease }: { matters: Matter[]; onRelease: (matterId: string) => void }) {
  return (
    <div class="table-wrap" data-state="results">
      <table>
        <caption>{matters.length} matter(s)</caption>
        <thead>
          <tr>
            <th scope="col">Matter</th>
            <th scope="col">Scope</th>
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Placed</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {matters.map((m) => (
            <tr key={m.matterId} data-matter={m.matterId}>
              <td>
                {m.matterId}
                <div class="muted small">{m.reason}</div>
              </td>
              <td>{describeScope(m.scope)}</td>
              <td>{m.status}</td>
              <td data-progress={m.progress.done ? 'done' : 'running'}>
                {m.progress.action === 'place' ? 'holding' : 'releasing'}:{' '}
                {m.progress.done ? 'done' : `page ${m.progress.page + 1}`} · {m.progress.matched} file(s) in scope,{' '}
                {m.progress.changed} version(s) {m.progress.action === 'place' ? 'held' : 'released'}
              </td>
              <td>
                <When at={m.placedAt} /> by {m.placedBy}
              </td>
              <td>
                {m.status === 'released' ? (
                  <span>
                    released <When at={m.releasedAt} />
                    {m.releasedBy ? ` by ${m.releasedBy}` : ''}
                  </span>
                ) : (
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => onRelease(m.matterId)}
                    aria-label={`Release ${m.matterId}`}
                  >
                    Release
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
