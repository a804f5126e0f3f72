/** The console's frame: who is signed in, the navigation, and the screen the URL names. */
import type { ApiClient } from './api/client.js';
import { useRoute } from './router.js';
import type { Route } from './router.js';
import { AuditScreen } from './screens/audit.js';
import { ChatScreen } from './screens/chat.js';
import { CoverageScreen } from './screens/coverage.js';
import { ExportScreen, ExportsScreen } from './screens/exports.js';
import { FileScreen } from './screens/file.js';
import { HoldsScreen } from './screens/holds.js';
import { SearchScreen } from './screens/search.js';
import { useFocusHeading } from './ui.js';

const NAV: { label: string; href: string; active: Route['name'][] }[] = [
  { label: 'Search', href: '#/search', active: ['search', 'chat', 'file'] },
  { label: 'Legal holds', href: '#/holds', active: ['holds'] },
  { label: 'Exports', href: '#/exports', active: ['exports', 'export'] },
  { label: 'Coverage', href: '#/coverage', active: ['coverage'] },
  { label: 'Access trail', href: '#/audit', active: ['audit'] },
];

export function App({ api, caller, onSignOut }: { api: ApiClient; caller: string; onSignOut?: () => void }) {
  const route = useRoute();
  const headingRef = useFocusHeading(window.location.hash);
  return (
    <>
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">Claude file archive · auditor console</span>
        <span class="caller">
          Signed in as <strong data-testid="caller">{caller}</strong>
          {onSignOut ? (
            <button type="button" class="link" onClick={onSignOut}>
              Sign out
            </button>
          ) : null}
        </span>
      </header>
      <nav aria-label="Screens">
        <ul>
          {NAV.map((n) => (
            <li key={n.href}>
              <a href={n.href} aria-current={n.active.includes(route.name) ? 'page' : undefined}>
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <Screen route={route} api={api} headingRef={headingRef} />
      </main>
    </>
  );
}

function Screen({
  route,
  api,
  headingRef,
}: {
  route: Route;
  api: ApiClient;
  headingRef: (el: HTMLHeadingElement | null) => void;
}) {
  switch (route.name) {
    case 'search':
      return <SearchScreen api={api} query={route.query} headingRef={headingRef} key={route.query.toString()} />;
    case 'chat':
      return <ChatScreen api={api} chatId={route.chatId} headingRef={headingRef} key={route.chatId} />;
    case 'file':
      return <FileScreen api={api} fileId={route.fileId} headingRef={headingRef} key={route.fileId} />;
    case 'holds':
      return <HoldsScreen api={api} headingRef={headingRef} />;
    case 'exports':
      return <ExportsScreen api={api} headingRef={headingRef} />;
    case 'export':
      return <ExportScreen api={api} exportId={route.exportId} headingRef={headingRef} key={route.exportId} />;
    case 'coverage':
      return <CoverageScreen api={api} headingRef={headingRef} />;
    case 'audit':
      return <AuditScreen api={api} query={route.query} headingRef={headingRef} key={route.query.toString()} />;
    case 'missing':
      return (
        <section>
          <h1 tabIndex={-1} ref={headingRef}>
            No such screen
          </h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <a href="#/search">Go to search</a>.
          </p>
        </section>
      );
  }
}
