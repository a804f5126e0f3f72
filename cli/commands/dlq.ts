import { withStackQueuesAndIndex } from '../aws-access.js';
import type { DeadLetterDeps } from '../dead-letters.js';
import { listDeadLetters, redriveDeadLetters } from '../dead-letters.js';
import { CliError, EXIT, UsageError } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { renderTable, toJson } from '../render.js';
import type { StackTarget } from '../stack-target.js';

async function withDeadLetterDeps<T>(
  target: StackTarget,
  io: CliIo,
  use: (deps: DeadLetterDeps) => Promise<T>,
): Promise<T> {
  return withStackQueuesAndIndex(await target.resources(), io.now, 'dead-letter queue', use);
}

/** `archiver dlq list`: the dead letters with why each is there. */
export async function runDlqList(
  opts: { json?: boolean | undefined; max: number },
  target: StackTarget,
  io: CliIo,
): Promise<void> {
  const letters = await withDeadLetterDeps(target, io, (deps) => listDeadLetters(deps, opts.max));
  if (opts.json) {
    io.out(toJson({ deadLetters: letters }));
    return;
  }
  if (letters.length === 0) {
    io.out('the dead-letter queue is empty');
    return;
  }
  io.out(
    renderTable(
      ['message id', 'file id', 'sent', 'receives', 'reason'],
      letters.map((l) => [l.messageId, l.fileId ?? '-', l.sentAt ?? '-', l.receiveCount ?? '-', l.reason]),
    ),
  );
  io.out(`${letters.length} dead letter(s)${letters.length >= opts.max ? ` (stopped at --max ${opts.max})` : ''}`);
}

/** `archiver dlq redrive [--all | <messageId>...]`. */
export async function runDlqRedrive(
  ids: string[],
  opts: { all?: boolean | undefined; json?: boolean | undefined; max: number },
  target: StackTarget,
  io: CliIo,
): Promise<void> {
  if (opts.all && ids.length > 0) throw new UsageError('give either --all or message ids, not both');
  if (!opts.all && ids.length === 0)
    throw new UsageError('give --all or the message ids to redrive (see "archiver dlq list")');
  const outcomes = await withDeadLetterDeps(target, io, (deps) =>
    redriveDeadLetters(deps, opts.all ? undefined : ids, opts.all ? opts.max : Math.max(opts.max, ids.length)),
  );
  const redriven = outcomes.filter((o) => o.result === 'redriven');
  const left = outcomes.filter((o) => o.result === 'left');
  const missing = outcomes.filter((o) => o.result === 'not_found');
  if (opts.json) io.out(toJson({ outcomes }));
  else {
    for (const o of redriven) {
      const record =
        o.record === 'reset'
          ? 'reset to pending'
          : o.record === 'final'
            ? 'already final, left as is'
            : o.record === 'absent'
              ? 'not in the index yet'
              : 'held by a delivery, left as is';
      io.out(`redriven ${o.messageId} (${o.fileId}; record ${record})`);
    }
    for (const o of left)
      io.out(`left ${o.messageId}: not a valid job, it would only come back (${o.reason ?? 'invalid'})`);
    io.out(
      `${redriven.length} redriven, ${left.length} left in the dead-letter ` +
        `queue${missing.length ? `, ${missing.length} not found` : ''}`,
    );
  }
  if (missing.length > 0)
    throw new CliError(`not in the dead-letter queue: ${missing.map((o) => o.messageId).join(', ')}`);
  if (left.length > 0)
    throw new CliError(`${left.length} dead letter(s) are not valid jobs and were left in the queue`, EXIT.problem);
}
