/** Screen 1: search the archive by person, period, chat, project, file name, hash, status, failed fixity. */
import { useState } from 'preact/hooks';
import type { ApiClient, FileEvidence, SearchFilters } from '../api/client.js';
import { chatHref, fileHref, href } from '../router.js';
import { ErrorNote, Field, Loading, Pager, StatusBadge, useLoad, When } from '../ui.js';

const FIELDS = [
  'creator',
  'from',
  'to',
  'chat',
  'project',
  'filename',
  'sha256',
  'md5',
  'status',
  'source',
  'fixity',
  'order',
] as const;

export function filtersOf(query: URLSearchParams): SearchFilters {
  const f: Record<string, string> = {};
  for (const k of FIELDS) {
    const v = query.get(k)?.trim();
    if (v) f[k] = v;
  }
  return f as SearchFilters;
}

export function SearchScreen({
  api,
  query,
  headingRef,
}: {
  api: ApiClient;
  query: URLSearchParams;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const filters = filtersOf(query);
  const asked = Object.keys(filters).some((k) => k !== 'order');
  const [draft, setDraft] = useState<Record<string, string>>({ ...filters });
  const set = (k: string) => (e: Event) => setDraft({ ...draft, [k]: (e.currentTarget as HTMLInputElement).value });
  const submit = (e: Event): void => {
    e.preventDefault();
    window.location.hash = href('/search', draft);
  };
  const input = (k: (typeof FIELDS)[number], type: 'text' | 'date' = 'text', placeholder = '') =>
    type === 'date' ? (
      <input name={k} type="date" value={draft[k] ?? ''} onInput={set(k)} />
    ) : (
      <input
        name={k}
        type="text"
        value={draft[k] ?? ''}
        onInput={set(k)}
        placeholder={placeholder}
        autoComplete="off"
      />
    );
  return (
    <section>
      <h1 tabIndex={-1} ref={headingRef}>
        Search the archive
      </h1>
      <form class="filters" onSubmit={submit} aria-label="Search filters">
        <Field label="Person (user id or e-mail)">{input('creator', 'text', 'user_… or name@example.com')}</Field>
        <Field label="From (created at or after)">{input('from', 'date')}</Field>
        <Field label="To (created before)">{input('to', 'date')}</Field>
        <Field label="Chat id">{input('chat', 'text', 'claude_chat_…')}</Field>
        <Field label="Project id">{input('project', 'text', 'claude_proj_…')}</Field>
        <Field label="File name starts with">{input('filename')}</Field>
        <Field label="SHA-256">{input('sha256', 'text', '64 hex digits')}</Field>
        <Field label="MD5">{input('md5', 'text', '32 hex digits')}</Field>
        <Field label="Status">
          <select name="status" value={draft['status'] ?? ''} onChange={set('status')}>
            <option value="">any</option>
            <option value="archived">archived</option>
            <option value="pending">pending</option>
            <option value="failed">failed</option>
            <option value="unavailable">unavailable</option>
          </select>
        </Field>
        <Field label="Source">
          <select name="source" value={draft['source'] ?? ''} onChange={set('source')}>
            <option value="">any</option>
            <option value="generated">generated</option>
            <option value="uploaded">uploaded</option>
            <option value="files_api">files_api</option>
          </select>
        </Field>
        <Field label="Fixity">
          <select name="fixity" value={draft['fixity'] ?? ''} onChange={set('fixity')}>
            <option value="">any</option>
            <option value="failed">latest check failed</option>
          </select>
        </Field>
        <Field label="Order">
          <select name="order" value={draft['order'] ?? 'newest'} onChange={set('order')}>
            <option value="newest">newest first</option>
            <option value="oldest">oldest first</option>
          </select>
        </Field>
        <div class="actions">
          <button type="submit">Search</button>
        </div>
      </form>
      {asked ? (
        <Results api={api} filters={filters} key={JSON.stringify(filters)} />
      ) : (
        <p class="muted">
          Give a person and a period (the common case), or any other filter. You can also open a chat by its id:{' '}
          <ChatJump />
        </p>
      )}
    </section>
  );
}

function ChatJump() {
  const [chatId, setChatId] = useState('');
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        if (chatId.trim()) window.location.hash = chatHref(chatId.trim());
      }}
    >
      <label>
        <span class="sr-only">Chat id to open</span>
        <input value={chatId} onInput={(e) => setChatId(e.currentTarget.value)} placeholder="claude_chat_…" />
      </label>{' '}
      <button type="submit" class="secondary">
        Open chat
      </button>
    </form>
  );
}

function Results({ api, filters }: { api: ApiClient; filters: SearchFilters }) {
  const [pages, setPages] = useState<FileEvidence[][]>([]);
  const [cursor, setCursor] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [moreError, setMoreError] = useState<unknown>();
  const [first] = useLoad(async () => {
    const page = await api.searchFiles(filters, { limit: 25 });
    setPages([page.files]);
    setCursor(page.nextCursor);
    return page;
  }, [JSON.stringify(filters)]);
  if (first.state === 'loading') return <Loading what="results" />;
  if (first.state === 'error') return <ErrorNote error={first.error} what="Search" />;
  const files = pages.flat();
  if (files.length === 0)
    return (
      <p role="status" data-state="empty">
        No archived file matches these filters. Widen the period, or check the person's id or e-mail.
      </p>
    );
  const more = async (): Promise<void> => {
    setBusy(true);
    try {
      const page = await api.searchFiles(filters, { limit: 25, ...(cursor ? { cursor } : {}) });
      setPages([...pages, page.files]);
      setCursor(page.nextCursor);
    } catch (err) {
      setMoreError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div data-state="results">
      <FileTable
        files={files}
        caption={`${files.length} file${files.length === 1 ? '' : 's'}${cursor ? ' (more on the next page)' : ''}`}
      />
      {moreError ? <ErrorNote error={moreError} what="the next page" /> : null}
      <Pager hasMore={cursor !== undefined} onMore={() => void more()} busy={busy} />
    </div>
  );
}

/** The results table, shared with the chat screen. */
export function FileTable({
  files,
  caption,
  showDeletions,
}: {
  files: FileEvidence[];
  caption: string;
  showDeletions?: boolean;
}) {
  return (
    <div class="table-wrap">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Creator</th>
            <th scope="col">Project</th>
            <th scope="col">Chats</th>
            {showDeletions ? <th scope="col">Deleted upstream</th> : null}
          </tr>
        </thead>
        <tbody>
          {files.map((f) => (
            <tr key={f.fileId}>
              <td>
                <a href={fileHref(f.fileId)}>{f.filename ?? f.fileId}</a>
                <div class="muted small">{f.fileId}</div>
              </td>
              <td>
                <StatusBadge status={f.status} />
              </td>
              <td>
                <When at={f.createdAt} />
              </td>
              <td>{f.creator ? (f.creator.emailAddress ?? f.creator.id) : <span class="muted">—</span>}</td>
              <td>{f.projectId ?? <span class="muted">—</span>}</td>
              <td>
                {f.chatIds.length === 0 ? (
                  <span class="muted">none</span>
                ) : (
                  f.chatIds.map((c) => (
                    <div key={c}>
                      <a href={chatHref(c)}>{c}</a>
                    </div>
                  ))
                )}
              </td>
              {showDeletions ? (
                <td>
                  {f.upstreamDeletions?.length ? (
                    <span class="badge badge-deleted">
                      deleted ({f.upstreamDeletions.map((d) => d.kind).join(', ')})
                    </span>
                  ) : (
                    <span class="muted">no</span>
                  )}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
