/** The scope of a hold or an export: files, chats, or a person over a period. */
import { useState } from 'preact/hooks';
import type { Scope } from '../api/client.js';
import { Field } from '../ui.js';

export function ScopeForm({
  submitLabel,
  onSubmit,
}: {
  submitLabel: string;
  onSubmit: (input: { name: string; reason: string; scope: Scope }) => Promise<void>;
}) {
  const [v, setV] = useState({ name: '', reason: '', fileIds: '', chatIds: '', creator: '', from: '', to: '' });
  const [problem, setProblem] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof v) => (e: Event) => setV({ ...v, [k]: (e.currentTarget as HTMLInputElement).value });
  const list = (s: string): string[] => s.split(/[\s,]+/).filter(Boolean);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const scope: Scope = {};
    if (list(v.fileIds).length) scope.fileIds = list(v.fileIds);
    if (list(v.chatIds).length) scope.chatIds = list(v.chatIds);
    if (v.creator.trim()) scope.creator = v.creator.trim();
    if (v.from) scope.from = v.from;
    if (v.to) scope.to = v.to;
    if (!v.name.trim()) return setProblem('Give it a name (the matter or case it is for).');
    if (!scope.fileIds && !scope.chatIds && !scope.creator)
      return setProblem('Give file ids, chat ids or a person: an empty scope would cover nothing.');
    setProblem(undefined);
    setBusy(true);
    try {
      await onSubmit({ name: v.name.trim(), reason: v.reason.trim(), scope });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="filters" onSubmit={(e) => void submit(e)}>
      <Field label="Name (matter or case)">
        <input value={v.name} onInput={set('name')} required />
      </Field>
      <Field label="Reason">
        <input value={v.reason} onInput={set('reason')} />
      </Field>
      <Field label="File ids" hint="separated by spaces or commas">
        <textarea value={v.fileIds} onInput={set('fileIds')} rows={2} />
      </Field>
      <Field label="Chat ids" hint="separated by spaces or commas">
        <textarea value={v.chatIds} onInput={set('chatIds')} rows={2} />
      </Field>
      <Field label="Person (user id or e-mail)">
        <input value={v.creator} onInput={set('creator')} />
      </Field>
      <Field label="From">
        <input type="date" value={v.from} onInput={set('from')} />
      </Field>
      <Field label="To">
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

export function describeScope(s: Scope): string {
  const parts: string[] = [];
  if (s.fileIds?.length) parts.push(`${s.fileIds.length} file(s)`);
  if (s.chatIds?.length) parts.push(`${s.chatIds.length} chat(s)`);
  if (s.creator) parts.push(`files of ${s.creator}`);
  if (s.from || s.to) parts.push(`${s.from ?? 'the start'} to ${s.to ?? 'now'}`);
  return parts.join(', ') || 'empty scope';
}
