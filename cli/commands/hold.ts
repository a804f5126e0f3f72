import { MatterIdSchema, PlaceHoldRequestSchema } from '../../shared/contracts/holds.js';
import { UsageError } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { createLookupClient } from '../lookup-client.js';
import type { LookupClient, MatterJson } from '../lookup-client.js';
import { renderPairs, renderTable, toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';

/**
 * `archiver hold place|release|list|show`: legal-hold matters through the lookup API (the legal
 * admin policy's routes). Placing and releasing only queue the matter's sweep; `--wait` follows its
 * progress until it is done.
 */
export interface PlaceOptions {
  matter: string;
  reason: string;
  user: string[];
  chat: string[];
  project: string[];
  file: string[];
  from?: string | undefined;
  to?: string | undefined;
  wait?: boolean | undefined;
  json?: boolean | undefined;
}

export interface HoldDeps {
  /** Pause between progress reads with --wait (ms). */
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export async function runHoldPlace(opts: PlaceOptions, target: StackTarget, io: CliIo, deps: HoldDeps = {}) {
  const nonEmpty = (l: string[]) => (l.length > 0 ? l : undefined);
  const request = {
    matterId: opts.matter,
    reason: opts.reason,
    scope: Object.fromEntries(
      Object.entries({
        users: nonEmpty(opts.user),
        chats: nonEmpty(opts.chat),
        projects: nonEmpty(opts.project),
        fileIds: nonEmpty(opts.file),
        from: opts.from,
        to: opts.to,
      }).filter(([, v]) => v !== undefined),
    ),
  };
  // The API validates too; checking here names the option instead of the JSON field.
  const parsed = PlaceHoldRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`the hold is not valid: ${issue?.path.join('.') || 'scope'} ${issue?.message ?? ''}`.trim());
  }
  const client = createLookupClient(await target.lookup());
  const { created, matter } = await client.placeHold(request);
  if (!opts.json)
    io.out(
      created
        ? `matter ${matter.matterId} placed; its sweep is queued`
        : `matter ${matter.matterId} was already placed with this reason and scope`,
    );
  const final = opts.wait ? await follow(client, matter.matterId, io, Boolean(opts.json), deps) : matter;
  io.out(opts.json ? toJson(final) : renderMatter(final));
}

export async function runHoldRelease(
  matterId: string,
  opts: { wait?: boolean | undefined; json?: boolean | undefined },
  target: StackTarget,
  io: CliIo,
  deps: HoldDeps = {},
) {
  checkMatterId(matterId);
  const client = createLookupClient(await target.lookup());
  const matter = await client.releaseHold(matterId);
  if (!opts.json)
    io.out(
      `matter ${matterId} released; its sweep starts after the ingest ` +
        `function's timeout and lifts the S3 legal hold of each version ` +
        `no other matter holds`,
    );
  const final = opts.wait ? await follow(client, matterId, io, Boolean(opts.json), deps) : matter;
  io.out(opts.json ? toJson(final) : renderMatter(final));
}

export async function runHoldList(opts: { json?: boolean | undefined }, target: StackTarget, io: CliIo) {
  const matters = await createLookupClient(await target.lookup()).listHolds();
  if (opts.json) {
    io.out(toJson({ matters }));
    return;
  }
  if (matters.length === 0) {
    io.out('no legal-hold matters');
    return;
  }
  io.out(
    renderTable(
      ['matter', 'status', 'placed', 'by', 'sweep', 'files'],
      matters.map((m) => [m.matterId, m.status, m.placedAt, m.placedBy, sweepOf(m), m.progress.matched]),
    ),
  );
}

export async function runHoldShow(
  matterId: string,
  opts: { json?: boolean | undefined },
  target: StackTarget,
  io: CliIo,
) {
  checkMatterId(matterId);
  const matter = await createLookupClient(await target.lookup()).getHold(matterId);
  io.out(opts.json ? toJson(matter) : renderMatter(matter));
}

function checkMatterId(matterId: string): void {
  if (!MatterIdSchema.safeParse(matterId).success)
    throw new UsageError(
      `the matter id must be 1 to 128 letters, digits, dots, underscores or hyphens, not "${matterId.slice(0, 80)}"`,
    );
}

/** Reads the matter until its sweep is done, printing a line whenever its progress moves (not with --json). */
async function follow(
  client: LookupClient,
  matterId: string,
  io: CliIo,
  quiet: boolean,
  deps: HoldDeps,
): Promise<MatterJson> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = '';
  for (;;) {
    const matter = await client.getHold(matterId);
    const line = sweepOf(matter);
    if (!quiet && line !== last) io.out(`  ${line}`);
    last = line;
    if (matter.progress.done) return matter;
    await sleep(deps.pollMs ?? 2_000);
  }
}

function sweepOf(m: MatterJson): string {
  const p = m.progress;
  const verb = p.action === 'place' ? 'held' : 'released';
  return (
    `${p.action} ${p.done ? 'done' : 'running'}: ${p.scanned} index ` +
    `items read, ${p.matched} files in scope, ${p.changed} ${verb}`
  );
}

function renderMatter(m: MatterJson): string {
  return renderPairs([
    ['matter', m.matterId],
    ['status', m.status],
    ['reason', m.reason],
    ['scope', JSON.stringify(m.scope)],
    ['placed', `${m.placedAt} by ${m.placedBy}`],
    ['released', m.releasedAt ? `${m.releasedAt} by ${m.releasedBy ?? '?'}` : undefined],
    ['sweep', sweepOf(m)],
  ]);
}
