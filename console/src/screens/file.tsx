/**
 * Screens 3 and 4: one file's evidence (every hash, the version, the upstream request, deletions,
 * holds, fixity, who accessed it), and download-and-verify of the exact archived version.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApiClient, FileEvidence } from '../api/client.js';
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
      <Holds api={api} fileId={record.fileId} />
      <Fixity api={api} fileId={record.fileId} />
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

function Holds({ api, fileId }: { api: ApiClient; fileId: string }) {
  const [holds] = useLoad(() => api.listHolds({ fileId }), [fileId]);
  return (
    <>
      <h2>Legal holds</h2>
      {holds.state === 'loading' ? <Loading what="holds" /> : null}
      {holds.state === 'error' ? <ErrorNote error={holds.error} what="Legal holds" /> : null}
      {holds.state === 'done' ? (
        holds.value.holds.length === 0 ? (
          <p>No legal hold covers this file.</p>
        ) : (
          <ul>
            {holds.value.holds.map((h) => (
              <li key={h.holdId}>
                <a href="#/holds">{h.name ?? h.holdId}</a> · {h.status} · placed <When at={h.placedAt} /> by{' '}
                {h.placedBy ?? 'unknown'}
              </li>
            ))}
          </ul>
        )
      ) : null}
    </>
  );
}

function Fixity({ api, fileId }: { api: ApiClient; fileId: string }) {
  const [checks] = useLoad(() => api.listFixity(fileId), [fileId]);
  return (
    <>
      <h2>Fixity history</h2>
      {checks.state === 'loading' ? <Loading what="fixity checks" /> : null}
      {checks.state === 'error' ? <ErrorNote error={checks.error} what="Fixity history" /> : null}
      {checks.state === 'done' ? (
        checks.value.checks.length === 0 ? (
          <p>No fixity check has been run on this file.</p>
        ) : (
          <ul>
            {checks.value.checks.map((c) => (
              <li key={c.checkedAt}>
                <When at={c.checkedAt} />: {c.result}
                {c.detail ? ` (${c.detail})` : ''}
                {c.checkedBy ? ` by ${c.checkedBy}` : ''}
              </li>
            ))}
          </ul>
        )
      ) : null}
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
