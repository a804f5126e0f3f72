/**
 * Screen 6: eDiscovery exports: start one (a scope, a matter, or both), follow its progress, download
 * the BagIt zip. The API has no list of exports, so the screen opens one by its id (the URL of the
 * export's page is shareable).
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../api/client.js';
import { href } from '../router.js';
import { ErrorNote, Field, formatBytes, Hash, Loading, useLoad, When } from '../ui.js';
import { describeScope, ScopeForm } from './scope-form.js';

/** How often an export's page reads the job again until it completes or fails. */
const POLL_MS = 2000;

const exportHref = (exportId: string): string => href(`/exports/${encodeURIComponent(exportId)}`);

export function ExportsScreen({
  api,
  headingRef,
}: {
  api: ApiClient;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const [actionError, setActionError] = useState<unknown>();
  const [matterId, setMatterId] = useState('');
  const [openId, setOpenId] = useState('');
  return (
    <section>
      <h1 tabIndex={-1} ref={headingRef}>
        Exports
      </h1>
      <h2>Start an export</h2>
      <p class="muted">
        A BagIt zip of the archived files in scope, with manifests, load files and the chain of custody. Give a scope, a
        legal-hold matter (its scope is used), or both.
      </p>
      <Field label="Matter id (optional)">
        <input value={matterId} onInput={(e) => setMatterId((e.currentTarget as HTMLInputElement).value)} />
      </Field>
      <ScopeForm
        kind="export"
        submitLabel="Start export"
        onSubmit={async (input) => {
          try {
            setActionError(undefined);
            const started = await api.startExport({
              ...(input.scope ? { scope: input.scope } : {}),
              ...(matterId.trim() ? { matterId: matterId.trim() } : {}),
              ...(input.label ? { description: input.label } : {}),
            });
            window.location.hash = exportHref(started.exportId);
          } catch (err) {
            setActionError(err);
          }
        }}
      />
      {actionError ? <ErrorNote error={actionError} what="the export" /> : null}
      <h2>Open an export</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          if (openId.trim()) window.location.hash = exportHref(openId.trim());
        }}
      >
        <Field label="Export id" hint="exp_…">
          <input value={openId} onInput={(e) => setOpenId((e.currentTarget as HTMLInputElement).value)} />
        </Field>
        <div class="actions">
          <button type="submit" class="secondary">
            Open
          </button>
        </div>
      </form>
    </section>
  );
}

/** One export: progress (read again until it ends), the download link, the package's SHA-256. */
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
  const running = x.state === 'done' && (x.value.status === 'queued' || x.value.status === 'running');
  useEffect(() => {
    if (!running) return;
    const t = setTimeout(reload, POLL_MS);
    return () => clearTimeout(t);
  }, [x]);
  const job = x.state === 'done' ? x.value : undefined;
  return (
    <section>
      <h1 tabIndex={-1} ref={headingRef}>
        Export <code>{exportId}</code>
      </h1>
      {x.state === 'loading' && !job ? <Loading what="the export" /> : null}
      {x.state === 'error' ? <ErrorNote error={x.error} what="Exports" /> : null}
      {job ? (
        <>
          <dl class="facts">
            <dt>Description</dt>
            <dd>{job.description ?? <span class="muted">none</span>}</dd>
            <dt>Scope</dt>
            <dd>
              {describeScope(job.scope)}
              {job.matterId ? ` · matter ${job.matterId}` : ''}
            </dd>
            <dt>Status</dt>
            <dd data-status={job.status}>{job.status}</dd>
            <dt>Progress</dt>
            <dd>
              <progress
                max={Math.max(job.counts.matched - job.counts.notArchived, 1)}
                value={job.counts.exported}
                aria-label="files exported"
              />{' '}
              {job.counts.exported} of {job.counts.matched - job.counts.notArchived} archived file(s) exported (
              {formatBytes(job.counts.payloadBytes)}); {job.counts.notArchived} matched file(s) not archived
            </dd>
            <dt>Requested</dt>
            <dd>
              <When at={job.requestedAt} /> by {job.requestedBy}
            </dd>
            <dt>Completed</dt>
            <dd>
              <When at={job.bag?.completedAt} />
            </dd>
          </dl>
          {job.error ? (
            <p class="error" role="alert">
              The export failed: {job.error}
            </p>
          ) : null}
          {job.download ? (
            <div data-state="ready">
              <p>
                <a href={job.download.url} rel="noreferrer" download={`${exportId}.zip`}>
                  Download the export package
                </a>{' '}
                ({formatBytes(job.download.bytes)}; the link works for {job.download.expiresInSeconds} s, reload this
                page for a new one)
              </p>
              <p>
                Package SHA-256: <Hash value={job.download.sha256} label="package SHA-256" />
              </p>
            </div>
          ) : running ? (
            <p class="muted" role="status">
              The export is {job.status}; this page reads it again every {POLL_MS / 1000} s.
            </p>
          ) : null}
        </>
      ) : null}
    </section>
  );
}
