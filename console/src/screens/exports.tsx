/** Screen 6: eDiscovery exports: start one, follow its progress, download it, read its chain of custody. */
import { useState } from 'preact/hooks';
import type { ApiClient } from '../api/client.js';
import { ErrorNote, Hash, Loading, useLoad, When } from '../ui.js';
import { describeScope, ScopeForm } from './scope-form.js';

export function ExportsScreen({
  api,
  headingRef,
}: {
  api: ApiClient;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const [exports, reload] = useLoad(() => api.listExports(), []);
  const [actionError, setActionError] = useState<unknown>();
  return (
    <section>
      <h1 tabIndex={-1} ref={headingRef}>
        Exports
      </h1>
      {exports.state === 'loading' ? <Loading what="exports" /> : null}
      {exports.state === 'error' ? <ErrorNote error={exports.error} what="Exports" /> : null}
      {exports.state === 'done' ? (
        <>
          {exports.value.exports.length === 0 ? (
            <p data-state="empty">No export has been started.</p>
          ) : (
            <ul data-state="results">
              {exports.value.exports.map((x) => (
                <li key={x.exportId}>
                  <a href={`#/exports/${encodeURIComponent(x.exportId)}`}>{x.name ?? x.exportId}</a> ·{' '}
                  {describeScope(x.scope)} · {x.status}
                  {x.files !== undefined ? ` · ${x.filesDone ?? 0} of ${x.files} files` : ''}
                </li>
              ))}
            </ul>
          )}
          <h2>Start an export</h2>
          <ScopeForm
            submitLabel="Start export"
            onSubmit={async (input) => {
              try {
                setActionError(undefined);
                const started = await api.startExport({ name: input.name, scope: input.scope });
                reload();
                window.location.hash = `#/exports/${encodeURIComponent(started.exportId)}`;
              } catch (err) {
                setActionError(err);
              }
            }}
          />
        </>
      ) : null}
      {actionError ? <ErrorNote error={actionError} what="the export" /> : null}
    </section>
  );
}

/** One export: progress, the download link, and its chain-of-custody page. */
export function ExportScreen({
  api,
  exportId,
  headingRef,
}: {
  api: ApiClient;
  exportId: string;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const [x, reload] = useLoad(() => api.getExport(exportId), [exportId]);
  return (
    <section>
      <h1 tabIndex={-1} ref={headingRef}>
        Export <code>{exportId}</code>
      </h1>
      {x.state === 'loading' ? <Loading what="the export" /> : null}
      {x.state === 'error' ? <ErrorNote error={x.error} what="Exports" /> : null}
      {x.state === 'done' ? (
        <>
          <dl class="facts">
            <dt>Scope</dt>
            <dd>{describeScope(x.value.scope)}</dd>
            <dt>Status</dt>
            <dd>{x.value.status}</dd>
            <dt>Progress</dt>
            <dd>
              {x.value.files !== undefined ? (
                <>
                  <progress max={x.value.files} value={x.value.filesDone ?? 0} aria-label="files exported" />{' '}
                  {x.value.filesDone ?? 0} of {x.value.files} files
                </>
              ) : (
                'counting'
              )}
            </dd>
            <dt>Started</dt>
            <dd>
              <When at={x.value.startedAt} /> {x.value.startedBy ? `by ${x.value.startedBy}` : ''}
            </dd>
            <dt>Completed</dt>
            <dd>
              <When at={x.value.completedAt} />
            </dd>
          </dl>
          {x.value.downloadUrl ? (
            <p>
              <a href={x.value.downloadUrl} rel="noreferrer">
                Download the export package
              </a>{' '}
              (the link is short-lived; reload this page for a new one)
            </p>
          ) : (
            <button type="button" class="secondary" onClick={reload}>
              Refresh progress
            </button>
          )}
          <h2>Chain of custody</h2>
          {x.value.custody ? (
            <>
              <p>
                Package SHA-256: <Hash value={x.value.custody.sha256} />
              </p>
              <ol>
                {(x.value.custody.entries ?? []).map((e, i) => (
                  <li key={`${e.at}-${i}`}>
                    <When at={e.at} /> · {e.actor} · {e.event}
                  </li>
                ))}
              </ol>
            </>
          ) : (
            <p>The chain of custody is written when the export completes.</p>
          )}
        </>
      ) : null}
    </section>
  );
}
