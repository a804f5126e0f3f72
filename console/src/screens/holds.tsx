/** Screen 5: legal holds: place one on a scope, release it, list them with their progress. */
import { useState } from 'preact/hooks';
import type { ApiClient, Hold } from '../api/client.js';
import { ErrorNote, Loading, useLoad, When } from '../ui.js';
import { describeScope, ScopeForm } from './scope-form.js';

export function HoldsScreen({
  api,
  headingRef,
}: {
  api: ApiClient;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const [holds, reload] = useLoad(() => api.listHolds(), []);
  const [actionError, setActionError] = useState<unknown>();
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
          {holds.value.holds.length === 0 ? (
            <p data-state="empty">No legal hold has been placed.</p>
          ) : (
            <HoldTable holds={holds.value.holds} onRelease={(id) => void act(() => api.releaseHold(id))} />
          )}
          <h2>Place a hold</h2>
          <p class="muted">
            A hold keeps every version in scope from deletion until it is released (S3 Object Lock legal hold), whatever
            the retention.
          </p>
          <ScopeForm submitLabel="Place hold" onSubmit={(input) => act(() => api.placeHold(input))} />
        </>
      ) : null}
      {actionError ? <ErrorNote error={actionError} what="the hold" /> : null}
    </section>
  );
}

function HoldTable({ holds, onRelease }: { holds: Hold[]; onRelease: (holdId: string) => void }) {
  return (
    <div class="table-wrap" data-state="results">
      <table>
        <caption>{holds.length} hold(s)</caption>
        <thead>
          <tr>
            <th scope="col">Hold</th>
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
          {holds.map((h) => (
            <tr key={h.holdId}>
              <td>
                {h.name ?? h.holdId}
                <div class="muted small">{h.reason}</div>
              </td>
              <td>{describeScope(h.scope)}</td>
              <td>{h.status}</td>
              <td>
                {h.applied !== undefined ? (
                  <progress
                    max={h.total ?? undefined}
                    value={h.applied}
                    aria-label={`hold ${h.name ?? h.holdId} applied`}
                  >
                    {h.applied}
                  </progress>
                ) : null}{' '}
                {h.applied ?? '?'} of {h.total ?? '…'}
              </td>
              <td>
                <When at={h.placedAt} /> {h.placedBy ? `by ${h.placedBy}` : ''}
              </td>
              <td>
                {h.releasedAt ? (
                  <span>
                    released <When at={h.releasedAt} />
                  </span>
                ) : (
                  <button type="button" class="secondary" onClick={() => onRelease(h.holdId)}>
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
