/**
 * The Compliance API's messages endpoint for a chat, derived from the files that belong to it:
 * uploaded files sit on user messages, generated files on assistant messages. One page holds the
 * whole chat (`has_more: false`).
 */
import {
  DEFAULT_CREATED_AT,
  createdAtOf,
  generatedMessageId,
  publishedMd5,
  uploadMessageId,
  type StoredFile,
} from './catalogue.js';
import type { RouteContext } from './routes.js';

interface ChatMessage {
  id: string;
  role: 'user' | 'assistant';
  created_at: string;
  content: { type: 'text'; text: string }[];
  files: Record<string, unknown>[];
  generated_files: Record<string, unknown>[];
  artifacts: unknown[];
}

export function serveChatMessages({ exchange, id, catalogue }: RouteContext): void {
  const body = buildChatMessages(id, catalogue.all());
  if (!body) {
    exchange.fail(404, 'No chat found with provided id, or it has already been deleted.');
    return;
  }
  exchange.sendJson(body);
}

/** The endpoint's answer for a chat; undefined for a chat no file belongs to. */
function buildChatMessages(chatId: string, stored: StoredFile[]): Record<string, unknown> | undefined {
  const messages = new Map<string, ChatMessage>();
  const messageFor = (id: string, role: ChatMessage['role'], createdAt: string): ChatMessage => {
    let message = messages.get(id);
    if (!message) {
      message = {
        id,
        role,
        created_at: createdAt,
        content: [{ type: 'text', text: role === 'user' ? 'Here is the file.' : 'I made the file.' }],
        files: [],
        generated_files: [],
        artifacts: [],
      };
      messages.set(id, message);
    }
    return message;
  };
  for (const { file, digest } of stored) {
    const createdAt = createdAtOf(file);
    if (file.source === 'generated' && file.chatId === chatId) {
      messageFor(generatedMessageId(file), 'assistant', createdAt).generated_files.push({
        id: file.id,
        filename: file.filename,
        md5: publishedMd5(file, digest),
        mime_type: file.mimeType,
        size_bytes: file.expired ? null : digest.sizeBytes,
      });
    }
    if (file.source === 'uploaded') {
      const index = file.chatIds.indexOf(chatId);
      if (index < 0) continue;
      messageFor(uploadMessageId(file, chatId, index), 'user', createdAt).files.push({
        id: file.id,
        created_at: createdAt,
        filename: file.filename,
        md5: publishedMd5(file, digest),
        mime_type: file.mimeType,
        size_bytes: digest.sizeBytes,
      });
    }
  }
  if (messages.size === 0) return undefined;
  const ordered = [...messages.values()].sort(
    (a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id),
  );
  const first = ordered[0];
  const last = ordered[ordered.length - 1];
  return {
    id: chatId,
    name: `Local chat ${chatId.slice('claude_chat_'.length)}`,
    created_at: first?.created_at ?? DEFAULT_CREATED_AT,
    updated_at: last?.created_at ?? DEFAULT_CREATED_AT,
    deleted_at: null,
    href: `https://claude.ai/chat/${chatId}`,
    model: 'claude-sonnet-4-5',
    organization_uuid: '00000000-0000-4000-8000-000000000001',
    project_id: null,
    user: { id: 'user_01LocalSampleUser', email_address: 'sample.user@example.com' },
    chat_messages: ordered,
    has_more: false,
    first_id: first?.id ?? null,
    last_id: last?.id ?? null,
  };
}
