/**
 * Screens 3 and 4: one file's evidence (every hash, the version, the upstream request, deletions,
 * holds, fixity, who accessed it), and download-and-verify of the exact archived version.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApiClient, FileEvidence, FixityEvent } from '../api/client.js';
import type { FixityTier } from '../../../shared/contracts/fixity.js';
import { chatHref, href } from '../router.js';
import { downloadAndVerify } from '../verify.js';
import type { Verification } from '../verify.js';
import { ErrorNote, formatBytes, Hash, Loading, StatusBadge, useLoad, When } from '../ui.js';

export function FileScreen({
  api,
  fileId,
  headingRef,
}: {
  api: ApiClient;
  fileId: string;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const [record] = useLoad(() => api.getFile(fileId), [fileId]);
  return (
    <section>
      <h1 tabIndex={-1} ref={headingRef}>
        File evidence
      </h1>
      <p class="muted">
        <code>{fileId}</code> · <a href={href('/audit', { fileId })}>access trail of this file</a>
      </p>
      {record.state === 'loading' ? <Loading what="the file's record" /> : null}
      {record.state === 'error' ? <ErrorNote error={record.error} what="this file" /> : null}
      {record.state === 'done' ? <Evidence api={api} record={record.value} /> : null}
    </section>
  );
}

function Evidence({ api, record }: { api: ApiClient; record: FileEvidence }) {
  return (
    <>
      <h2>Record</h2>
      <dl class="facts">
        <dt>Name</dt>
        <dd>{record.filename ?? <span class="muted">not published</span>}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={record.status} />
          {'reason' in record ? ` ${record.reason}: ${record.detail}` : null}
          {record.status === 'pending'
            ? ` ${record.attempts} attempt(s)${record.lastError ? `; last error: ${record.lastError}` : ''}`
            : null}
        </dd>
        <dt>Source</dt>
        <dd>{record.source}</dd>
        <dt>Size</dt>
        <dd>
          {record.sizeBytes === null ? 'unknown' : `${formatBytes(record.sizeBytes)} (${record.sizeBytes} bytes)`}
        </dd>
        <dt>Created upstream</dt>
        <dd>
          <When at={record.createdAt} />
        </dd>
        <dt>Creator</dt>
        <dd>
          {record.creator ? (
            `${record.creator.emailAddress ?? '(no e-mail)'} · ${record.creator.id}`
          ) : (
            <span class="muted">not recorded</span>
          )}
        </dd>
        <dt>Project</dt>
        <dd>{record.projectId ?? <span class="muted">none recorded</span>}</dd>
        <dt>Chats</dt>
        <dd>
          {record.chatIds.length === 0
            ? 'none (a Files API file)'
            : record.chatIds.map((c) => (
                <div key={c}>
                  <a href={chatHref(c)}>{c}</a>
                </div>
              ))}
        </dd>
        <dt>Upstream request id</dt>
        <dd>
          <Hash value={record.upstreamRequestId} />
        </dd>
      </dl>
      {record.status === 'archived' ? (
        <>
          <h2>Integrity evidence</h2>
          <dl class="facts" data-testid="hashes">
            <dt>Published MD5 (metadata)</dt>
            <dd>
              {record.publishedMd5Mismatch ? (
                <>
                  <Hash value={record.publishedMd5Mismatch.metadataMd5} />{' '}
                  <span class="badge badge-failed">differs from Content-MD5</span>
                </>
              ) : (
                <span>agreed with the archived MD5 (the record keeps it only when it differs)</span>
              )}
            </dd>
            <dt>Content-MD5 (download header)</dt>
            <dd>
              <Hash value={record.publishedMd5Mismatch?.contentMd5 ?? record.md5} />
            </dd>
            <dt>Our MD5 (archived bytes)</dt>
            <dd>
              <Hash value={record.md5} />
            </dd>
            <dt>Our SHA-256 (archived bytes)</dt>
            <dd>
              <Hash value={record.sha256} label="archived SHA-256" />
            </dd>
            <dt>S3 CRC-32 (full object)</dt>
            <dd>
              {record.crc32 ? (
                <Hash value={record.crc32} />
              ) : (
                <span class="muted">not kept for this record (archived before CRC-32s were kept)</span>
              )}
            </dd>
            <dt>S3 version id</dt>
            <dd>
              <Hash value={record.versionId} />
            </dd>
            <dt>Object</dt>
            <dd>
              <code>
                s3://{record.bucket}/{record.key}
              </code>
            </dd>
            <dt>Archived at</dt>
            <dd>
              <When at={record.archivedAt} />
            </dd>
          </dl>
          <DownloadAndVerify api={api} record={record} />
        </>
      ) : null}
      <h2>Upstream deletions</h2>
      {record.upstreamDeletions?.length ? (
        <ul>
          {record.upstreamDeletions.map((d) => (
            <li key={`${d.id}-${d.recordedAt}`}>
              The {d.kind} <code>{d.id}</code> was deleted upstream <When at={d.deletedAt} /> (
              {d.via === 'activity' ? 'deletion activity' : 'soft delete'}
              {d.actor ? `, by ${describeActor(d.actor)}` : ''}); recorded <When at={d.recordedAt} />. The archived copy
              stays.
            </li>
          ))}
        </ul>
      ) : (
        <p>No deletion of this file or its chats has been seen upstream.</p>
      )}
      <Holds record={record} />
      <Fixity api={api} record={record} />
      <Accesses api={api} fileId={record.fileId} />
    </>
  );
}

function describeActor(actor: Record<string, unknown>): string {
  for (const k of ['email_address', 'emailAddress', 'id']) if (typeof actor[k] === 'string') return actor[k];
  return 'an unnamed actor';
}

type VerifyState =
  | { state: 'idle' }
  | { state: 'busy' }
  | { state: 'done'; result: Verification; url: string }
  | { state: 'error'; error: unknown };

function DownloadAndVerify({ api, record }: { api: ApiClient; record: Extract<FileEvidence, { status: 'archived' }> }) {
  const [v, setV] = useState<VerifyState>({ state: 'idle' });
  useEffect(
    () => () => {
      if (v.state === 'done') URL.revokeObjectURL(v.url);
    },
    [v],
  );
  const run = async (): Promise<void> => {
    setV({ state: 'busy' });
    try {
      const url = await api.downloadUrl(record.fileId);
      const result = await downloadAndVerify(url, record.sha256);
      setV({ state: 'done', result, url: URL.createObjectURL(result.blob) });
    } catch (error) {
      setV({ state: 'error', error });
    }
  };
  return (
    <div class="verify">
      <h2>Download and verify</h2>
      <p class="muted">
        Downloads version <code>{record.versionId ?? '(current)'}</code> and recomputes its SHA-256 in this browser (
        {formatBytes(record.sizeBytes)} held in memory).
      </p>
      <button type="button" onClick={() => void run()} disabled={v.state === 'busy'}>
        {v.state === 'busy' ? 'Downloading and hashing…' : 'Download and verify'}
      </button>
      <div aria-live="polite">
        {v.state === 'error' ? <ErrorNote error={v.error} what="the download" /> : null}
        {v.state === 'done' ? (
          <div
            class={v.result.matches ? 'verified' : 'mismatch'}
            data-verified={String(v.result.matches)}
            role="status"
          >
            <p>
              <strong>{v.result.matches ? 'Verified' : 'NOT verified'}:</strong>{' '}
              {v.result.matches
                ? 'the downloaded bytes have the archived SHA-256.'
                : 'the downloaded bytes do not have the archived SHA-256. Keep this copy aside and report it.'}
            </p>
            <dl class="facts">
              <dt>Computed SHA-256</dt>
              <dd>
                <Hash value={v.result.sha256} label="computed SHA-256" />
              </dd>
              <dt>Archived SHA-256</dt>
              <dd>
                <Hash value={record.sha256} />
              </dd>
              <dt>Bytes</dt>
              <dd>{v.result.bytes}</dd>
            </dl>
            <a href={v.url} download={record.filename}>
              Save the downloaded copy
            </a>
          </div>
        ) : null}
      </div>
    </div>
  );
}

/** The matters holding this archived version, as the record carries them (set by the sweep or at ingest). */
function Holds({ record }: { record: FileEvidence }) {
  const holds = record.status === 'archived' ? Object.values(record.legalHolds ?? {}) : [];
  return (
    <>
      <h2>Legal holds</h2>
      {holds.length === 0 ? (
        <p>No legal hold covers this file.</p>
      ) : (
        <ul data-state="held">
          {holds.map((h) => (
            <li key={h.matterId}>
              <a href="#/holds">{h.matterId}</a> · held <When at={h.placedAt} /> (
              {h.via === 'ingest' ? 'as it was archived' : "by the matter's sweep"}) · placed by {h.placedBy} ·{' '}
              {h.reason}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** Fixity: the record's checks (newest first), and a check run now, cheap (HeadObject) or deep (rehash). */
function Fixity({ api, record }: { api: ApiClient; record: FileEvidence }) {
  const [events, setEvents] = useState<FixityEvent[]>(record.status === 'archived' ? (record.fixityEvents ?? []) : []);
  const [busy, setBusy] = useState<FixityTier | undefined>();
  const [error, setError] = useState<unknown>();
  if (record.status !== 'archived')
    return (
      <>
        <h2>Fixity history</h2>
        <p>There is no archived copy to check.</p>
      </>
    );
  const run = async (tier: FixityTier): Promise<void> => {
    setBusy(tier);
    setError(undefined);
    try {
      const { event } = await api.verifyFile(record.fileId, tier);
      setEvents((old) => [...old, event]);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <>
      <h2>Fixity history</h2>
      <p class="muted">
        Cheap: S3 confirms the version exists with the recorded size and CRC-32 (no bytes read). Deep: the version is
        read and its MD5 and SHA-256 recomputed. Each check is recorded on the file's record.
      </p>
      <div class="actions">
        <button type="button" disabled={busy !== undefined} onClick={() => void run('cheap')}>
          {busy === 'cheap' ? 'Checking…' : 'Verify now (cheap)'}
        </button>{' '}
        <button type="button" class="secondary" disabled={busy !== undefined} onClick={() => void run('deep')}>
          {busy === 'deep' ? 'Rehashing…' : 'Verify now (deep)'}
        </button>
      </div>
      <div aria-live="polite">{error ? <ErrorNote error={error} what="The fixity check" /> : null}</div>
      {events.length === 0 ? (
        <p>No fixity check has been run on this file.</p>
      ) : (
        <ul data-state="fixity">
          {[...events].reverse().map((e) => (
            <li key={`${e.at}-${e.tier}`} data-outcome={e.outcome}>
              <When at={e.at} /> · {e.tier} · <strong>{e.outcome}</strong> · {e.detail} ({e.tool} v{e.toolVersion})
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function Accesses({ api, fileId }: { api: ApiClient; fileId: string }) {
  const [trail] = useLoad(() => api.listAudit({ fileId }, { limit: 10 }), [fileId]);
  return (
    <>
      <h2>Who accessed it</h2>
      {trail.state === 'loading' ? <Loading what="the access trail" /> : null}
      {trail.state === 'error' ? <ErrorNote error={trail.error} what="The access trail" /> : null}
      {trail.state === 'done' ? (
        trail.value.events.length === 0 ? (
          <p>No access to this file is recorded.</p>
        ) : (
          <ul>
            {trail.value.events.map((e, i) => (
              <li key={`${e.at}-${i}`}>
                <When at={e.at} /> · {e.principal} · {e.action} · {e.status}
              </li>
            ))}
            {trail.value.nextCursor ? (
              <li>
                <a href={href('/audit', { fileId })}>the whole trail of this file</a>
              </li>
            ) : null}
          </ul>
        )
      ) : null}
    </>
  );
}
