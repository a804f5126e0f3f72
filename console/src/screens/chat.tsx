/** Screen 2: a chat's files in upstream order, with status, creator, project and deletion marks. */
import { useState } from 'preact/hooks';
import type { ApiClient, ChatFilesPage } from '../api/client.js';
import { ErrorNote, Loading, Pager, useLoad, When } from '../ui.js';
import { FileTable } from './search.js';

export function ChatScreen({
  api,
  chatId,
  headingRef,
}: {
  api: ApiClient;
  chatId: string;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  const [pages, setPages] = useState<ChatFilesPage[]>([]);
  const [busy, setBusy] = useState(false);
  const [moreError, setMoreError] = useState<unknown>();
  const [first] = useLoad(async () => {
    const page = await api.listChatFiles(chatId, { limit: 50 });
    setPages([page]);
    return page;
  }, [chatId]);
  const last = pages.at(-1);
  const more = async (): Promise<void> => {
    if (!last?.nextCursor) return;
    setBusy(true);
    try {
      const page = await api.listChatFiles(chatId, { limit: 50, cursor: last.nextCursor });
      setPages([...pages, page]);
    } catch (err) {
      setMoreError(err);
    } finally {
      setBusy(false);
    }
  };
  const files = pages.flatMap((p) => p.files);
  const deletion = pages[0]?.chatDeletion;
  return (
    <section>
      <h1 tabIndex={-1} ref={headingRef}>
        Chat <code>{chatId}</code>
      </h1>
      {first.state === 'loading' ? <Loading what="the chat's files" /> : null}
      {first.state === 'error' ? <ErrorNote error={first.error} what="this chat" /> : null}
      {first.state === 'done' ? (
        <>
          {deletion ? (
            <p class="notice" data-state="chat-deleted">
              <strong>Deleted upstream</strong> <When at={deletion.deletedAt} /> (
              {deletion.via === 'activity' ? 'deletion activity' : 'soft delete'}). The archived copies stay.
            </p>
          ) : null}
          {files.length === 0 ? (
            <p role="status" data-state="empty">
              No file of this chat has been recorded. Discovery may not have reached it yet, or the id is mistyped.
            </p>
          ) : (
            <FileTable
              files={files}
              caption={`${files.length} file${files.length === 1 ? '' : 's'}, in upstream creation order`}
              showDeletions
            />
          )}
          {moreError ? <ErrorNote error={moreError} what="the next page" /> : null}
          <Pager hasMore={last?.nextCursor !== undefined} onMore={() => void more()} busy={busy} />
        </>
      ) : null}
    </section>
  );
}
