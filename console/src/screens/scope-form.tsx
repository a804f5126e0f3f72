/**
 * The scope of a hold or an export (shared/contracts/holds.ts HoldScopeSchema, the export's the same
 * shape): people, chats, projects, files, and a window on upstream creation time. The API validates
 * it again; this form only keeps an empty request from being sent.
 */
import { useState } from 'preact/hooks';
import type { Scope } from '../api/client.js';
import { Field } from '../ui.js';

/** What the form gives: the matter id (a hold) or a description (an export), the reason, the scope. */
export interface ScopeInput {
  label: string;
  reason: string;
  /** Absent when no selector nor window was given (an export may then name a matter alone). */
  scope?: Scope;
}

export function ScopeForm({
  kind,
  submitLabel,
  onSubmit,
}: {
  kind: 'hold' | 'export';
  submitLabel: string;
  onSubmit: (input: ScopeInput) => Promise<void>;
}) {
  const empty = { label: '', reason: '', users: '', chats: '', projects: '', fileIds: '', from: '', to: '' };
  const [v, setV] = useState(empty);
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof v) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  const list = (s: string): string[] => s.split(/[\s,]+/).filter(Boolean);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const scope: Scope = {};
    for (const k of ['users', 'chats', 'projects', 'fileIds'] as const) if (list(v[k]).length) scope[k] = list(v[k]);
    // A date input gives a day; the API takes instants: from the start of that day (UTC), to the start of the next.
    if (v.from) scope.from = `${v.from}T00:00:00Z`;
    if (v.to) scope.to = new Date(Date.parse(`${v.to}T00:00:00Z`) + 86_400_000).toISOString();
    const hasScope = Object.keys(scope).length > 0;
    if (kind === 'hold') {
      if (!v.label.trim()) return setProblem('Give the matter id (the case or docket it is for).');
      if (!v.reason.trim()) return setProblem('Give the reason for the hold.');
      if (!hasScope)
        return setProblem('Give people, chats, projects, file ids or dates: an empty scope covers nothing.');
    } else if (!hasScope && !v.label.trim()) {
      return setProblem('Give people, chats, projects, file ids or dates to export.');
    }
    setProblem(undefined);
    setBusy(true);
    try {
      await onSubmit({ label: v.label.trim(), reason: v.reason.trim(), ...(hasScope ? { scope } : {}) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="filters" onSubmit={(e) => void submit(e)}>
      {kind === 'hold' ? (
        <>
          <Field label="Matter id" hint="letters, digits, . _ -">
            <input value={v.label} onInput={set('label')} required pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,127}" />
          </Field>
          <Field label="Reason">
            <input value={v.reason} onInput={set('reason')} required />
          </Field>
        </>
      ) : (
        <Field label="Description" hint="written into the package">
          <input value={v.label} onInput={set('label')} />
        </Field>
      )}
      <Field label="People (user ids or e-mails)" hint="separated by spaces or commas">
        <textarea value={v.users} onInput={set('users')} rows={2} />
      </Field>
      <Field label="Chat ids" hint="separated by spaces or commas">
        <textarea value={v.chats} onInput={set('chats')} rows={2} />
      </Field>
      <Field label="Project ids" hint="separated by spaces or commas">
        <textarea value={v.projects} onInput={set('projects')} rows={2} />
      </Field>
      <Field label="File ids" hint="separated by spaces or commas">
        <textarea value={v.fileIds} onInput={set('fileIds')} rows={2} />
      </Field>
      <Field label="Created from" hint="this day included (UTC)">
        <input type="date" value={v.from} onInput={set('from')} />
      </Field>
      <Field label="Created to" hint="this day included (UTC)">
        <input type="date" value={v.to} onInput={set('to')} />
      </Field>
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Sending…' : submitLabel}
        </button>
      </div>
      {problem ? (
        <p class="error" role="alert">
          {problem}
        </p>
      ) : null}
    </form>
  );
}

export function describeScope(s: Scope | null | undefined): string {
  if (!s) return 'no scope of its own';
  const parts: string[] = [];
  if (s.users?.length) parts.push(`files of ${s.users.join(', ')}`);
  if (s.chats?.length) parts.push(`${s.chats.length} chat(s)`);
  if (s.projects?.length) parts.push(`${s.projects.length} project(s)`);
  if (s.fileIds?.length) parts.push(`${s.fileIds.length} file(s)`);
  if (s.from || s.to) parts.push(`created ${s.from ?? 'from the start'} to ${s.to ?? 'now'}`);
  return parts.join(', ') || 'empty scope';
}
