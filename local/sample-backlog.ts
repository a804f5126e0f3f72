/**
 * The sample upstream's backlog for `npm start`: several hundred chats (enough for the chat poller to
 * page), each with a small generated file and every third with an uploaded file; every 25th chat is
 * soft-deleted in the app (still readable, `deleted_at` set); and an activity feed with an upload
 * activity per uploaded file plus a few deletions (files and chats), so that discovery, not a manual
 * enqueue, finds every sample file and the lookups show the deletions. Deterministic: the same ids on
 * every start, so a restarted stack finds its archive again.
 */
import type { ListingActivity, ListingChatFacts } from './upstream/listings.js';
import type { UpstreamFile } from './upstream/catalogue.js';

export interface SampleBacklog {
  files: UpstreamFile[];
  chatFacts: [string, ListingChatFacts][];
  activities: ListingActivity[];
}

const pad = (n: number, width = 4) => String(n).padStart(width, '0');

/** `chats` chats of the backlog; timestamps are fixed instants in 2025, well behind any activity window. */
export function sampleBacklog(chats = 300): SampleBacklog {
  const files: UpstreamFile[] = [];
  const chatFacts: [string, ListingChatFacts][] = [];
  const activities: ListingActivity[] = [];
  const at = (i: number, second = 0) =>
    new Date(Date.UTC(2025, 5, 10, 8, 0, 0) + i * 60_000 + second * 1000).toISOString();
  const actor = { type: 'user_actor', user_id: 'user_01LocalSampleUser', email_address: 'sample.user@example.com' };
  for (let i = 0; i < chats; i++) {
    const chatId = `claude_chat_01Backlog${pad(i)}`;
    files.push({
      source: 'generated',
      id: `claude_gen_file_01Backlog${pad(i)}`,
      chatId,
      filename: `analysis-${pad(i)}.txt`,
      mimeType: 'text/plain',
      createdAt: at(i, 30),
      content: Buffer.from(`Backlog analysis ${i}\n`),
    });
    if (i % 3 === 0) {
      const id = `claude_file_01BacklogUpload${pad(i)}`;
      files.push({
        source: 'uploaded',
        id,
        chatIds: [chatId],
        filename: `input-${pad(i)}.csv`,
        mimeType: 'text/csv',
        createdAt: at(i),
        content: Buffer.from(`row,value\n${i},${i * 2}\n`),
      });
      activities.push({
        id: `activity_01BacklogUpload${pad(i)}`,
        type: 'claude_file_uploaded',
        created_at: at(i),
        actor,
        claude_file_id: id,
        claude_chat_id: chatId,
        filename: `input-${pad(i)}.csv`,
      });
    }
    if (i % 25 === 7) {
      chatFacts.push([chatId, { deletedAt: at(i, 50) }]);
      activities.push({
        id: `activity_01BacklogChatDeleted${pad(i)}`,
        type: 'claude_chat_deleted',
        created_at: at(i, 50),
        actor,
        claude_chat_id: chatId,
      });
    }
    if (i % 60 === 3) {
      // Deleted in the app after it was uploaded: upstream still lists it here, our copy is kept.
      activities.push({
        id: `activity_01BacklogFileDeleted${pad(i)}`,
        type: 'claude_file_deleted',
        created_at: at(i, 55),
        actor,
        claude_file_id: `claude_file_01BacklogUpload${pad(i)}`,
      });
    }
  }
  return { files, chatFacts, activities };
}
