import type { Agent as UndiciAgent, Dispatcher } from 'undici';
import AgentClass from 'undici/lib/dispatcher/agent.js';
import requestFunction from 'undici/lib/api/api-request.js';

/**
 * The two parts of undici the upstream clients use, imported from their own modules instead of
 * undici's index: that one loads every dispatcher, fetch, WebSocket, EventSource, the caches and the
 * mocks, about 240 of the 525 KiB undici adds to each Lambda bundle, all of it evaluated at every
 * cold start (docs/benchmark.md). The classes are the same objects undici's index exports (it
 * requires these very files), so an `Agent` from `undici` and one from here are interchangeable, and
 * the version is the one pinned in package.json. Types come from undici's own declarations
 * (undici-modules.d.ts maps the module paths onto them).
 */
export const Agent: typeof UndiciAgent = AgentClass;
export type Agent = UndiciAgent;

/** What `request(url, { dispatcher, ... })` of undici's index does for a URL object, minus its argument checks. */
export function request(
  dispatcher: Dispatcher,
  url: URL,
  opts: { method: 'GET'; headers: Record<string, string>; signal: AbortSignal },
): Promise<Dispatcher.ResponseData> {
  return requestFunction.call(dispatcher, {
    ...opts,
    origin: url.origin,
    path: url.search ? `${url.pathname}${url.search}` : url.pathname,
  });
}
