// Undici ships declarations for its index only; these name the two modules undici-parts.ts imports
// directly by the types of what the index exports for them (undici 7: `Agent` is
// lib/dispatcher/agent.js; `Dispatcher.prototype.request` is lib/api/api-request.js, called with the
// dispatcher as `this`).
declare module 'undici/lib/dispatcher/agent.js' {
  import type { Agent } from 'undici';
  const AgentClass: typeof Agent;
  export default AgentClass;
}

declare module 'undici/lib/api/api-request.js' {
  import type { Dispatcher } from 'undici';
  function request(this: Dispatcher, opts: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData>;
  export default request;
}
