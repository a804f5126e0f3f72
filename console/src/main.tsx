/** Starts the console: reads config.json, signs in (deployed) or not (local), renders the app. */
import { render } from 'preact';
import { createApiClient } from './api/client.js';
import type { ApiClient } from './api/client.js';
import { createSigningSend } from './api/signing.js';
import { App } from './app.js';
import { signIn, signOut } from './auth/cognito.js';
import { parseConsoleConfig } from './config.js';
import './styles.css';

async function start(root: HTMLElement): Promise<void> {
  const res = await fetch('./config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`config.json could not be read (${res.status}).`);
  const config = parseConsoleConfig(await res.json());
  let api: ApiClient;
  let caller: string;
  let onSignOut: (() => void) | undefined;
  if (config.auth.kind === 'local') {
    // The local stack has no sign-in: the lookup server names the caller itself.
    api = createApiClient(config.apiUrl, (url, init) => fetch(url, init));
    caller = config.auth.caller;
  } else {
    const auth = config.auth;
    const session = await signIn(auth, config.region);
    if (!session) return; // on its way to the sign-in page
    api = createApiClient(
      config.apiUrl,
      createSigningSend(config.region, () => session.credentials()),
    );
    caller = session.caller;
    onSignOut = () => signOut(auth);
  }
  // The placeholder goes: Preact renders into the element, it does not replace what is there.
  root.replaceChildren();
  render(<App api={api} caller={caller} {...(onSignOut ? { onSignOut } : {})} />, root);
}

const root = document.getElementById('app');
if (root) {
  start(root).catch((err: unknown) => {
    const p = document.createElement('p');
    p.className = 'error';
    p.setAttribute('role', 'alert');
    p.textContent = `The console could not start: ${err instanceof Error ? err.message : String(err)}`;
    root.replaceChildren(p);
  });
}
