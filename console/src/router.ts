/**
 * Hash routes, so every screen (a file, a chat, a search with its filters) is a URL an auditor can
 * share or bookmark, and the static hosting needs no rewrite rules.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { name: 'search'; query: URLSearchParams }
  | { name: 'chat'; chatId: string; query: URLSearchParams }
  | { name: 'file'; fileId: string }
  | { name: 'holds' }
  | { name: 'exports' }
  | { name: 'export'; exportId: string }
  | { name: 'coverage' }
  | { name: 'audit'; query: URLSearchParams }
  | { name: 'missing'; path: string };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/search';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map(decodeSegment);
  const [first, second] = parts;
  if (parts.length === 1 && first === 'search') return { name: 'search', query };
  if (parts.length === 2 && first === 'chats' && second) return { name: 'chat', chatId: second, query };
  if (parts.length === 2 && first === 'files' && second) return { name: 'file', fileId: second };
  if (parts.length === 1 && first === 'holds') return { name: 'holds' };
  if (parts.length === 1 && first === 'exports') return { name: 'exports' };
  if (parts.length === 2 && first === 'exports' && second) return { name: 'export', exportId: second };
  if (parts.length === 1 && first === 'coverage') return { name: 'coverage' };
  if (parts.length === 1 && first === 'audit') return { name: 'audit', query };
  return { name: 'missing', path };
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `#/files/<id>` and friends: ids are encoded, query values dropped when empty. */
export function href(path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) params.set(k, v);
  const qs = params.toString();
  return `#${path}${qs ? `?${qs}` : ''}`;
}

export const fileHref = (fileId: string): string => href(`/files/${encodeURIComponent(fileId)}`);
export const chatHref = (chatId: string): string => href(`/chats/${encodeURIComponent(chatId)}`);

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
