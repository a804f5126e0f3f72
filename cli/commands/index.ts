// Over 400 lines: it is the declaration table of every command and option (the help text the docs
// test compares with docs/cli.md); the work lives in one module per command.
/**
 * Declares every command, its arguments, options and help; the work is in the command modules,
 * loaded only when their command runs (the AWS SDK clients take a while to import).
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { parseCount } from '../dates.js';
import type { CommandContext } from '../program.js';

type Ctx = (cmd: Command) => CommandContext;
type VerifyCliOptions = {
  file?: string;
  chat?: string;
  since?: string;
  user?: string;
  sample?: string;
  tier: string;
  json?: boolean;
};

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerCommands(program: Command, ctx: Ctx, env: NodeJS.ProcessEnv): void {
  program
    .command('enqueue')
    .description('send ingest jobs: one per file id; a chat id is read upstream and each of its files enqueued')
    .argument('<id...>', 'file ids (claude_gen_file_…, claude_file_…, file_…) and/or chat ids (claude_chat_…)')
    .option(
      '--reason <text>',
      'why, recorded on every job (e.g. "legal hold LH-114"; up to 500 letters, digits, punctuation, spaces)',
    )
    .option('--chat <chatId>', "the chat the file ids belong to: their jobs carry it, so each file's record lists it")
    .option('--json', 'print {"files": [{fileId, messageId}], "chats": [{chatId, found, jobs}]}')
    .addHelpText(
      'after',
      '\nFile ids need only the ingest queue. Chat ids also read the ' +
        "chat's messages upstream (the stack's\nAPI key; requests draw " +
        "from the shared budget), as the webhook's chat fan-out does.\n\nExamples:\n " +
        ' archiver enqueue claude_file_01SampleRawDataCsv\n  archiver ' +
        'enqueue claude_file_01SampleRawDataCsv --chat claude_chat_01SampleQuarterlyReview\n ' +
        ' archiver enqueue claude_chat_01SampleQuarterlyReview --json',
    )
    .action(async (ids: string[], opts: { json?: boolean; reason?: string; chat?: string }, cmd: Command) => {
      const c = ctx(cmd);
      const { runEnqueue } = await import('./enqueue.js');
      await runEnqueue(ids, opts, c.target(), c.io, env);
    });

  program
    .command('backfill')
    .description(
      'walk chats (created in a period, of some users) and enqueue ' +
        'their files, through discovery and the shared budget',
    )
    .option(
      '--since <date>',
      'chats created at or after this (2025-06-01, 2025-06-01T12:00:00Z, or an age: 90m, 36h, 7d)',
    )
    .option('--until <date>', 'chats created before this (default: when the backfill first started)')
    .option('--user <userId>', 'only chats of this user (user_…); repeat for up to 10', collect, [])
    .option('--restart', 'start a new walk even if one with these options was interrupted')
    .addOption(
      new Option('--progress <mode>', 'auto: a live display on a terminal, plain lines otherwise; plain: always lines')
        .choices(['auto', 'plain'])
        .default('auto'),
    )
    .option(
      '--json',
      'print only a summary at the end: {ending, resumed, key, query, ' +
        'chatsScanned, filesEnqueued, startedAt, completedAt}',
    )
    .addHelpText(
      'after',
      "\nEach chat is read with the chat poller's own step: its messages " +
        "after the chat's checkpoint, one\njob per file with its metadata. " +
        'A chat already read by the poller costs no request. Progress ' +
        "is\ncheckpointed after every chat in the stack's table: Ctrl-C " +
        '(exit 130) and the same command again\nresumes where it stopped.\n\nExamples:\n ' +
        ' archiver backfill --since 2025-01-01 --until 2025-07-01\n  ' +
        'archiver backfill --since 30d --user user_01ABC --user user_01DEF',
    )
    .action(
      async (
        opts: {
          since?: string;
          until?: string;
          user: string[];
          restart?: boolean;
          json?: boolean;
          progress: 'auto' | 'plain';
        },
        cmd: Command,
      ) => {
        const c = ctx(cmd);
        const { runBackfillCommand } = await import('./backfill.js');
        await runBackfillCommand(opts, c.target(), c.io, env);
      },
    );

  program
    .command('status')
    .description('queue and dead-letter depth, files by state and reason, poller health and budget use')
    .option('--no-files', 'skip counting files (the count scans the index table)')
    .option(
      '--stale-after <minutes>',
      'a poller with no completed run for longer is reported stalled (the default of the …PollerStalled alarms)',
      '30',
    )
    .option(
      '--json',
      'print the report as JSON: {stack, at, queue, deadLetterQueue, files, pollers, budgets, problems}',
    )
    .addHelpText(
      'after',
      '\nExits 3 when it finds a problem: dead letters, failed files, ' +
        'a stalled poller, a rejected cursor.\n\nExample:\n  archiver ' +
        'status --stack prod --region eu-west-1',
    )
    .action(async (opts: { files: boolean; staleAfter: string; json?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const staleAfterMinutes = parseCount(opts.staleAfter, '--stale-after', 100_000);
      const { runStatus } = await import('./status.js');
      await runStatus({ files: opts.files, staleAfterMinutes, json: opts.json }, c.target(), c.io, env);
    });

  const dlq = program.command('dlq').description('the dead-letter queue: list it, send messages back');
  dlq
    .command('list')
    .description("show each dead letter with why it is there (rejectReason, or the file record's last error)")
    .option('--max <n>', 'list at most this many', '1000')
    .option(
      '--json',
      'print {"deadLetters": [{messageId, sentAt, receiveCount, fileId, chatId, reason, recordStatus}]}',
    )
    .action(async (opts: { max: string; json?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const { runDlqList } = await import('./dlq.js');
      await runDlqList({ json: opts.json, max: parseCount(opts.max, '--max', 100_000) }, c.target(), c.io);
    });
  dlq
    .command('redrive')
    .description('send dead letters back to the ingest queue, resetting their file records to pending')
    .argument('[messageId...]', 'the dead letters to send back (ids from "archiver dlq list")')
    .option('--all', 'every dead letter')
    .option('--max <n>', 'with --all, at most this many', '1000')
    .option('--json', 'print {"outcomes": [{messageId, fileId, result, record, reason}]}')
    .addHelpText(
      'after',
      '\nA dead letter that is not a valid job is left where it is ' +
        '(it would only come back), and the\ncommand exits 3.\n\nExamples:\n ' +
        ' archiver dlq redrive --all\n  archiver dlq redrive 0f5c6e0e-…',
    )
    .action(async (ids: string[], opts: { all?: boolean; max: string; json?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const { runDlqRedrive } = await import('./dlq.js');
      await runDlqRedrive(
        ids,
        { all: opts.all, json: opts.json, max: parseCount(opts.max, '--max', 100_000) },
        c.target(),
        c.io,
      );
    });

  program
    .command('lookup')
    .description("show a file's record, or every file of a chat, from the lookup API")
    .option('--chat <chatId>', 'every file of this chat, in upstream creation order')
    .option('--file <fileId>', "this file's record: status, size, md5, sha256, S3 key and version, timestamps")
    .option('--json', 'print the API\'s JSON: the record, or {"chatId", "files": [...]} with every page')
    .addHelpText(
      'after',
      '\nExamples:\n  archiver lookup --chat claude_chat_01SampleQuarterlyReview\n ' +
        ' archiver lookup --file claude_gen_file_01SampleQ3RevenueCsv ' +
        '--json',
    )
    .action(async (opts: { chat?: string; file?: string; json?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const { runLookup } = await import('./lookup.js');
      await runLookup(opts, c.target(), c.io);
    });

  program
    .command('download')
    .description('download the archived copy and re-verify its SHA-256 (and MD5 and size) against the index on the way')
    .argument('<fileId>', 'the file to download')
    .option('-o, --output <path>', "where to write it (default: the file's name in the current folder; - for stdout)")
    .option('--force', 'overwrite the output file if it exists')
    .option('--keep-unverified', 'on a mismatch keep the bytes as <path>.unverified for inspection')
    .option('--json', 'print {fileId, path, verified, bytes, sha256, md5, expected, mismatches}')
    .addHelpText(
      'after',
      '\nA copy that fails verification exits 3 and is not written ' +
        'under its name.\n\nExample:\n  archiver download claude_gen_file_01SampleQ3RevenueCsv ' +
        '-o q3.csv',
    )
    .action(
      async (
        fileId: string,
        opts: { output?: string; force?: boolean; keepUnverified?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const c = ctx(cmd);
        const { runDownload } = await import('./download.js');
        await runDownload(fileId, opts, c.target(), c.io);
      },
    );

  program
    .command('export')
    .description('start an eDiscovery export (a BagIt bag in a zip), wait for it, download and verify it')
    .option('--chat <chatId>', 'files of this chat; repeat for more', collect, [])
    .option('--user <user>', 'files whose creator has this user id or email address; repeat for more', collect, [])
    .option('--project <projectId>', 'files of this project (claude_proj_…); repeat for more', collect, [])
    .option('--file <fileId>', 'this file; repeat for more', collect, [])
    .option(
      '--from <date>',
      'files created upstream at or after this (2025-06-01, 2025-06-01T12:00:00Z, or an age: 7d)',
    )
    .option('--to <date>', 'files created upstream before this')
    .option(
      '--matter <matterId>',
      'a legal-hold matter: the files it holds, by its hold scope (narrowed by any of the options above; an ' +
        'unknown matter exits 1)',
    )
    .option('--description <text>', 'a label for the bag (bag-info.txt External-Description)')
    .option('--status <exportId>', 'do not start an export: read this one (with --wait and --download as below)')
    .option('--wait', 'wait until the export has completed or failed')
    .option('--download <path>', 'when complete, download the bag here and verify its SHA-256 (implies --wait)')
    .option('--force', 'overwrite the --download file if it exists')
    .option('--poll-seconds <n>', 'with --wait, seconds between status reads', '2')
    .option('--json', 'print the export job as the API returns it (and {downloaded: {path, sha256, bytes, verified}})')
    .addHelpText(
      'after',
      '\nThe options given all apply (a file must meet each); a repeated ' +
        'option is met by any of its values.\nThe caller needs the legal-admin ' +
        'policy. Exits 3 when the export failed or the download does ' +
        'not\nmatch the SHA-256 the API reports (then nothing is written ' +
        'under that name).\n\nExamples:\n  archiver export --chat claude_chat_01SampleQuarterlyReview ' +
        '--wait --download q3-review.zip\n  archiver export --user ada@example.com ' +
        '--from 2025-01-01 --to 2025-07-01 --description "Matter 17"\n ' +
        ' archiver export --matter LH-2026-114 --download lh-2026-114.zip\n ' +
        ' archiver export --status exp_0123456789abcdef0123456789abcdef ' +
        '--download bag.zip',
    )
    .action(
      async (
        opts: {
          chat: string[];
          user: string[];
          project: string[];
          file: string[];
          from?: string;
          to?: string;
          matter?: string;
          description?: string;
          status?: string;
          wait?: boolean;
          download?: string;
          force?: boolean;
          pollSeconds: string;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        const c = ctx(cmd);
        const pollSeconds = parseCount(opts.pollSeconds, '--poll-seconds', 3600);
        const { runExport } = await import('./export.js');
        await runExport({ ...opts, pollSeconds }, c.target(), c.io);
      },
    );

  program
    .command('ledger')
    .description("the discovery ledger: each poller's runs, and the gaps in their chain")
    .option('--since <date>', 'from this date (2025-06-01, 2025-06-01T12:00:00Z, or an age: 36h, 7d); default 24h')
    .option('--source <poller>', 'one poller only: chats, activities, files_api or projects')
    .option(
      '--max-interval <minutes>',
      'a pause between runs longer than this is a gap (the default of the …PollerStalled alarms)',
      '30',
    )
    .option('--runs', 'list every run, not only the summary')
    .option('--json', 'print {since, until, sources: [{source, runs, gaps}], gaps}')
    .addHelpText(
      'after',
      '\nA gap is a run that did not start from the cursor the previous ' +
        'run ended at, an activity window\nthat does not follow on from ' +
        'the last completed one, a rejected cursor, or a pause between ' +
        'runs\n(or since the last run) longer than --max-interval. Exits ' +
        '3 when there is a gap.\n\nExample:\n  archiver ledger --since ' +
        '2025-06-01 --runs',
    )
    .action(
      async (
        opts: { since?: string; source?: string; maxInterval: string; runs?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        const c = ctx(cmd);
        const maxIntervalMinutes = parseCount(opts.maxInterval, '--max-interval', 100_000);
        const { runLedger } = await import('./ledger.js');
        await runLedger(
          { since: opts.since, source: opts.source, runs: opts.runs, json: opts.json, maxIntervalMinutes },
          c.target(),
          c.io,
        );
      },
    );

  const hold = program
    .command('hold')
    .description(
      'legal holds: place a matter (S3 Object Lock legal hold on every ' +
        'archived version in scope), release it, list them',
    );
  hold
    .command('place')
    .description(
      'place a legal hold for a matter on every archived file in its scope, and on files archived later in it',
    )
    .requiredOption('--matter <id>', 'the matter id (a case or docket number: letters, digits, . _ -)')
    .requiredOption('--reason <text>', 'why, recorded on every held record (up to 500 characters)')
    .option(
      '--user <idOrEmail>',
      'a custodian: files whose chat, project or document this user created; repeatable',
      collect,
      [],
    )
    .option('--chat <chatId>', 'every file of this chat (claude_chat_…); repeatable', collect, [])
    .option('--project <projectId>', 'every file of this project (claude_proj_…); repeatable', collect, [])
    .option('--file <fileId>', 'this file; repeatable', collect, [])
    .option('--from <time>', 'only files created at or after this RFC 3339 time')
    .option('--to <time>', 'only files created before this RFC 3339 time')
    .option('--wait', "follow the sweep's progress until every version in scope is held")
    .option('--json', 'print the matter as JSON: {matterId, reason, scope, status, placedBy, placedAt, progress}')
    .addHelpText(
      'after',
      '\nA file is in scope when it matches any --user, --chat, --project ' +
        'or --file; --from/--to narrow by its\ncreation time (alone, ' +
        'they select every file in the window). Needs the legal admin ' +
        'policy.\n\nExample:\n  archiver hold place --matter LH-2026-114 ' +
        '--reason "Doe v. Example" --chat claude_chat_01ABC --wait',
    )
    .action(
      async (
        opts: {
          matter: string;
          reason: string;
          user: string[];
          chat: string[];
          project: string[];
          file: string[];
          from?: string;
          to?: string;
          wait?: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        const c = ctx(cmd);
        const { runHoldPlace } = await import('./hold.js');
        await runHoldPlace(opts, c.target(), c.io);
      },
    );
  hold
    .command('release')
    .description('release one matter: a version stays held while another matter holds it')
    .argument('<matterId>', 'the matter to release')
    .option('--wait', "follow the release sweep's progress until it is done (it starts after the ingest timeout)")
    .option('--json', 'print the matter as JSON')
    .action(async (matterId: string, opts: { wait?: boolean; json?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const { runHoldRelease } = await import('./hold.js');
      await runHoldRelease(matterId, opts, c.target(), c.io);
    });
  hold
    .command('list')
    .description('every matter, active and released, with its sweep')
    .option('--json', 'print {"matters": [...]}')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const { runHoldList } = await import('./hold.js');
      await runHoldList(opts, c.target(), c.io);
    });
  hold
    .command('show')
    .description("one matter: scope, who placed and released it, its sweep's progress")
    .argument('<matterId>', 'the matter')
    .option('--json', 'print the matter as JSON')
    .action(async (matterId: string, opts: { json?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const { runHoldShow } = await import('./hold.js');
      await runHoldShow(matterId, opts, c.target(), c.io);
    });

  program
    .command('verify')
    .description('fixity: re-prove archived copies now and record each check on its record (exit 3 if one fails)')
    .option('--file <fileId>', 'one file')
    .option('--chat <chatId>', 'every archived file of a chat')
    .option('--since <date>', 'archived files created upstream at or after this (2025-06-01, or an age: 7d)')
    .option('--user <idOrEmail>', 'files whose creator has this user id or email address (with --since: both)')
    .option('--sample <n>', 'check this many, drawn at random from the selection (alone: from every archived file)')
    .addOption(
      new Option(
        '--tier <tier>',
        'cheap: the version, its size and the CRC-32 S3 keeps; deep: re-read and re-hash the bytes',
      )
        .choices(['cheap', 'deep'])
        .default('cheap'),
    )
    .option('--json', 'print {tier, checked, failed, checks: [{fileId, event, fixity}]}')
    .action(async (opts: VerifyCliOptions, cmd: Command) => {
      const c = ctx(cmd);
      const { runVerify } = await import('./verify.js');
      await runVerify(opts, c.target(), c.io);
    });

  program
    .command('search')
    .description(
      'find archived files by person, period, chat, project, filename, hash, status, source ' +
        'or failed fixity (lookup API)',
    )
    .option('--creator <idOrEmail>', "the creator's upstream user id (user_…) or email address")
    .option('--chat <chatId>', 'files listed under this chat')
    .option('--project <projectId>', 'files of this project')
    .option('--filename <prefix>', 'filename prefix, case-insensitive (alone; results in filename order)')
    .option('--sha256 <hex>', 'SHA-256 of the archived bytes')
    .option('--md5 <hex>', 'MD5 of the archived bytes')
    .addOption(
      new Option('--status <status>', 'record status').choices(['pending', 'archived', 'unavailable', 'failed']),
    )
    .addOption(
      new Option('--source <source>', 'where upstream holds the file').choices(['generated', 'uploaded', 'files_api']),
    )
    .addOption(new Option('--fixity <outcome>', 'archived files whose latest fixity check failed').choices(['failed']))
    .option('--from <date>', 'created at or after (2025-06-01 or an RFC 3339 time)')
    .option('--to <date>', 'created at or before (a date means its whole day)')
    .addOption(new Option('--order <order>', 'newest or oldest first').choices(['newest', 'oldest']))
    .option('--max <n>', 'list at most this many', '1000')
    .option('--json', 'print {accessPattern, files: [records], more}')
    .addHelpText(
      'after',
      '\nSupported combinations: one of --creator, --chat, --project, ' +
        '--status, --source, --fixity, --sha256 or --md5,\neach optionally with ' +
        '--from/--to; --from/--to alone; --filename alone. Each is one ' +
        'index query\n(docs/lookup-api.md). Needs the auditor (or legal ' +
        'admin) policy.\n\nExamples:\n  archiver search --creator alice@example.com ' +
        '--from 2025-01-01 --to 2025-03-31\n  archiver search --sha256 ' +
        '9f86d081884c7d65… --json\n  archiver search --fixity failed --from 2026-11-01',
    )
    .action(async (opts: Record<string, string | boolean | undefined> & { max: string }, cmd: Command) => {
      const c = ctx(cmd);
      const { runSearch } = await import('./search.js');
      await runSearch({ ...opts, max: parseCount(opts.max, '--max', 100_000) }, c.target(), c.io);
    });

  program
    .command('audit')
    .description('the access trail: who searched, read, downloaded or verified what, and when (lookup API)')
    .option('--from <date>', 'from this time (default: 7 days before --to, or the beginning with --principal/--file)')
    .option('--to <date>', 'up to this time (default: now)')
    .option('--principal <arn>', "one caller's requests (an IAM principal ARN, as API Gateway reports it)")
    .option('--file <fileId>', 'the requests that named this file')
    .option('--max <n>', 'list at most this many', '1000')
    .option(
      '--json',
      'print {events: [{at, principal, action, scope, fileId, resultFileIds, status, sourceIp, userAgent}], more}',
    )
    .addHelpText(
      'after',
      '\nNewest first. Every request to the lookup API is in the trail, ' +
        'refused ones too. Needs the auditor\n(or legal admin) policy.\n\nExamples:\n ' +
        ' archiver audit --principal arn:aws:sts::123456789012:assumed-role/Auditor/alice ' +
        '--from 2025-06-01\n  archiver audit --file claude_gen_file_01SampleQ3RevenueCsv ' +
        '--json',
    )
    .action(
      async (
        opts: { from?: string; to?: string; principal?: string; file?: string; max: string; json?: boolean },
        cmd: Command,
      ) => {
        const c = ctx(cmd);
        const { runAudit } = await import('./search.js');
        await runAudit({ ...opts, max: parseCount(opts.max, '--max', 100_000) }, c.target(), c.io);
      },
    );

  program
    .command('reindex')
    .description("give files archived before search existed their search keys (resumable; the operator's policy)")
    .option('--restart', 'start over instead of resuming from the checkpoint (or after a completed run)')
    .option('--json', 'print {scanned, fileItems, updated, skipped, startedAt, completedAt, resumed}')
    .addHelpText(
      'after',
      '\nReads the index table page by page (a Scan, the only command ' +
        "that scans it besides status) and\nwrites each old file item's " +
        'search keys; its place is checkpointed after every page, so ' +
        'Ctrl-C and\nthe same command again resumes. Items written meanwhile ' +
        'by ingest already carry their keys.\n\nExample:\n  archiver ' +
        'reindex --stack prod',
    )
    .action(async (opts: { restart?: boolean; json?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const { runReindex } = await import('./reindex.js');
      await runReindex(opts, c.target(), c.io);
    });
}
