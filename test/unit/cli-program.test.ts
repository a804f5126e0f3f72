import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CliIo } from '../../cli/io.js';
import { buildProgram, runProgram } from '../../cli/program.js';
import type { TargetDeps } from '../../cli/stack-target.js';
import { resolveTarget } from '../../cli/stack-target.js';
import { CliError, UsageError } from '../../cli/exit-codes.js';

// The command line itself, in process: help, usage errors and exit codes, which stack a command
// talks to, and docs/cli.md agreeing with the commands' definitions.
interface Captured {
  io: CliIo;
  stdout: string[];
  stderr: string[];
}

function ioFactory(): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = {
    out: (t) => void stdout.push(t),
    err: (t) => void stderr.push(t),
    stdout: {
      write: (s: string) => {
        stdout.push(s);
        return true;
      },
    } as unknown as CliIo['stdout'],
    signal: new AbortController().signal,
    now: () => Date.parse('2025-06-10T00:00:00Z'),
  };
  return { io, stdout, stderr };
}

function targetDepsFactory(overrides: Partial<TargetDeps> = {}): TargetDeps {
  return {
    env: {},
    readOutputs: async () => ({}),
    readSecret: async () => 'sk-ant-api01-test',
    sampleApiKey: 'sample-key',
    isRunning: () => true,
    useLocalCredentials: () => undefined,
    defaultDataDirs: [{ path: '.archiver', trusted: false }],
    ...overrides,
  };
}

let emptyDir: string;
beforeAll(async () => {
  emptyDir = await mkdtemp(join(tmpdir(), 'archiver-cli-unit-'));
});
afterAll(async () => {
  await rm(emptyDir, { recursive: true, force: true });
});

function allCommands(cmd: Command, path: string[] = []): { path: string; cmd: Command }[] {
  return cmd.commands.flatMap((c) => {
    const p = [...path, c.name()];
    return c.commands.length > 0 ? allCommands(c, p) : [{ path: p.join(' '), cmd: c }];
  });
}

const commandPaths = [
  'enqueue',
  'backfill',
  'status',
  'dlq list',
  'dlq redrive',
  'lookup',
  'download',
  'export',
  'ledger',
  'hold place',
  'hold release',
  'hold list',
  'hold show',
  'verify',
  'search',
  'audit',
  'reindex',
];

describe('the archiver command line', () => {
  it('has exactly the documented commands', () => {
    const program = buildProgram({ io: ioFactory().io, target: targetDepsFactory() });
    expect(allCommands(program).map((c) => c.path)).toEqual(commandPaths);
  });

  it.each(commandPaths)('`%s --help` prints the usage and the exit codes, and exits 0', async (path) => {
    const c = ioFactory();
    const code = await runProgram([...path.split(' '), '--help'], { io: c.io, target: targetDepsFactory() });
    expect(code).toBe(0);
    const text = c.stdout.join('');
    expect(text).toContain(`Usage: archiver ${path}`);
    expect(text).toContain('Exit codes:');
    expect(text).toMatch(/3 +found a problem/);
  });

  it('answers an unknown option, a missing argument and an unknown command with one line and exit 2', async () => {
    for (const argv of [
      ['status', '--bogus'],
      ['download'],
      ['frobnicate'],
      ['status', '--stale-after', 'soon'],
      ['backfill', '--progress', 'fancy'],
    ]) {
      const c = ioFactory();
      const code = await runProgram(argv, {
        io: c.io,
        target: targetDepsFactory({ env: { ARCHIVER_DATA_DIR: emptyDir } }),
      });
      expect(code, argv.join(' ')).toBe(2);
      expect(c.stderr, argv.join(' ')).toHaveLength(1);
      expect(c.stderr[0]).toMatch(/^archiver: /);
    }
  });

  it('without a running local stack or --stack, says how to get one (exit 2)', async () => {
    const c = ioFactory();
    const code = await runProgram(['status'], {
      io: c.io,
      target: targetDepsFactory({ env: { ARCHIVER_DATA_DIR: emptyDir } }),
    });
    expect(code).toBe(2);
    expect(c.stderr).toEqual([
      expect.stringMatching(
        /^archiver: no local stack is running \(.*stack\.json is missing\) and no --stack was given: start one with "npm start", or name a deployed stack with --stack ENV$/,
      ),
    ]);
  });

  it('maps an unexpected error to one line and exit 1, never a stack trace', async () => {
    const c = ioFactory();
    const code = await runProgram(['--stack', 'prod', 'lookup', '--file', 'claude_file_01X'], {
      io: c.io,
      target: targetDepsFactory({
        readOutputs: async () => Promise.reject(new TypeError('socket hang up\n    at Object.<anonymous> (x.js:1:1)')),
      }),
    });
    expect(code).toBe(1);
    expect(c.stderr).toEqual(['archiver: TypeError: socket hang up']);
  });
});

describe('which stack a command talks to', () => {
  it('reads a deployed stack from its two CloudFormation stacks, by environment name', async () => {
    const asked: string[] = [];
    const outputs: Record<string, Record<string, string>> = {
      'claude-file-archiver-prod-data': {
        IndexTableName: 'table',
        ArchiveBucketName: 'bucket',
        IngestQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest',
        DeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest-dlq',
        UpstreamApiKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:key',
      },
      'claude-file-archiver-prod-service': {
        LookupApiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/',
        UpstreamBaseUrl: 'https://upstream.example.com',
      },
    };
    const target = resolveTarget(
      { stack: 'prod' },
      targetDepsFactory({
        // Set in the operator's shell for some other tool: it must not receive the organization's key.
        env: { ANTHROPIC_BASE_URL: 'https://elsewhere.example.net' },
        readOutputs: async (name) => {
          asked.push(name);
          return outputs[name] ?? {};
        },
      }),
    );
    expect(target.kind).toBe('deployed');
    expect(await target.lookup()).toEqual({
      url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/',
      signWithRegion: 'eu-west-1',
    });
    expect(await target.resources()).toEqual({
      region: 'eu-west-1',
      table: 'table',
      bucket: 'bucket',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest',
      deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/ingest-dlq',
    });
    const upstream = await target.upstream();
    expect(upstream.baseUrl).toBe('https://upstream.example.com');
    expect(await upstream.apiKey()).toBe('sk-ant-api01-test');
    // Each stack's outputs are read once.
    expect(asked.sort()).toEqual(['claude-file-archiver-prod-data', 'claude-file-archiver-prod-service']);
  });

  it('names a missing output, and refuses a stack name that is not an environment name', async () => {
    const target = resolveTarget({ stack: 'claude-file-archiver-dev' }, targetDepsFactory());
    await expect(target.lookup()).rejects.toThrow(
      new CliError(
        'stack claude-file-archiver-dev-service has no output LookupApiUrl: is it deployed from this version?',
      ),
    );
    expect(() => resolveTarget({ stack: 'Prod!' }, targetDepsFactory())).toThrow(UsageError);
  });

  it('with --lookup-url serves the lookup API only, signed for its region; plain http only on loopback', async () => {
    const target = resolveTarget(
      { lookupUrl: 'https://abc123.execute-api.us-west-2.amazonaws.com/v1/' },
      targetDepsFactory(),
    );
    expect(await target.lookup()).toMatchObject({ signWithRegion: 'us-west-2' });
    await expect(target.resources()).rejects.toThrow(UsageError);
    expect(() => resolveTarget({ lookupUrl: 'http://api.example.com/v1/' }, targetDepsFactory())).toThrow(UsageError);
    expect(() => resolveTarget({ lookupUrl: 'https://api.example.com/v1/' }, targetDepsFactory())).toThrow(
      'give --region',
    );
    expect(await resolveTarget({ lookupUrl: 'http://127.0.0.1:8787' }, targetDepsFactory()).lookup()).toEqual({
      url: 'http://127.0.0.1:8787',
      signWithRegion: undefined,
    });
  });

  it('refuses a stack file whose process is gone, and takes the sample key only from a sample stack', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'archiver-cli-stack-'));
    const info = {
      lookupUrl: 'http://127.0.0.1:1',
      upstream: { url: 'http://127.0.0.1:2', sample: false },
      region: 'us-east-1',
      s3: { endpoint: 'http://127.0.0.1:3', server: 's3rver', bucket: 'b' },
      dynamodb: { endpoint: 'http://127.0.0.1:4', table: 't' },
      sqs: {
        endpoint: 'http://127.0.0.1:5',
        queueUrl: 'http://127.0.0.1:5/q',
        deadLetterQueueUrl: 'http://127.0.0.1:5/q-dlq',
      },
      webhook: { url: 'http://127.0.0.1:6/events', secret: 'whsec_dGVzdA==', replayTable: 't' },
      dataDir: dir,
      pid: 424242,
    };
    await writeFile(join(dir, 'stack.json'), JSON.stringify(info));
    try {
      await expect(
        resolveTarget({ dataDir: dir }, targetDepsFactory({ isRunning: () => false })).lookup(),
      ).rejects.toThrow(/is not running/);
      const real = resolveTarget({ dataDir: dir }, targetDepsFactory());
      await expect(real.upstream()).rejects.toThrow('set ANTHROPIC_API_KEY');
      await writeFile(
        join(dir, 'stack.json'),
        JSON.stringify({ ...info, upstream: { url: 'http://127.0.0.1:2', sample: true } }),
      );
      expect(await (await resolveTarget({ dataDir: dir }, targetDepsFactory()).upstream()).apiKey()).toBe('sample-key');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the upstream a deployed stack's key goes to", () => {
  const outputs = (service: Record<string, string>) => async (name: string) =>
    name.endsWith('-service') ? service : { UpstreamApiKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:1:secret:k' };

  it(
    "is the stack's UpstreamBaseUrl output whatever ANTHROPIC_BASE_URL " + 'says; only --upstream-url overrides it',
    async () => {
      const deps = targetDepsFactory({
        env: { ANTHROPIC_BASE_URL: 'https://attacker.example.net' },
        readOutputs: outputs({ UpstreamBaseUrl: 'https://api.anthropic.com' }),
      });
      expect((await resolveTarget({ stack: 'prod' }, deps).upstream()).baseUrl).toBe('https://api.anthropic.com');
      const overridden = resolveTarget({ stack: 'prod', upstreamUrl: 'https://proxy.example.com' }, deps);
      expect((await overridden.upstream()).baseUrl).toBe('https://proxy.example.com');
    },
  );

  it('is refused when the stack does not say it (an older deployment), unless --upstream-url names it', async () => {
    const deps = targetDepsFactory({ env: { ANTHROPIC_BASE_URL: 'https://x.example' }, readOutputs: outputs({}) });
    await expect(resolveTarget({ stack: 'prod' }, deps).upstream()).rejects.toThrow(
      /has no output UpstreamBaseUrl .*give --upstream-url/,
    );
    expect(() => resolveTarget({ stack: 'prod', upstreamUrl: 'http://proxy.example.com' }, deps)).toThrow(UsageError);
  });

  it("is the local stack file's unless --upstream-url names another", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'archiver-cli-upstream-'));
    try {
      await writeFile(join(dir, 'stack.json'), JSON.stringify(localStackInfo(dir)));
      const deps = targetDepsFactory({ env: { ANTHROPIC_BASE_URL: 'https://x.example', ANTHROPIC_API_KEY: 'k' } });
      expect((await resolveTarget({ dataDir: dir }, deps).upstream()).baseUrl).toBe('http://127.0.0.1:2');
      const other = await resolveTarget({ dataDir: dir, upstreamUrl: 'http://127.0.0.1:9' }, deps).upstream();
      expect(other.baseUrl).toBe('http://127.0.0.1:9');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function localStackInfo(dir: string, overrides: Record<string, unknown> = {}) {
  return {
    lookupUrl: 'http://127.0.0.1:1',
    upstream: { url: 'http://127.0.0.1:2', sample: false },
    region: 'us-east-1',
    s3: { endpoint: 'http://127.0.0.1:3', server: 's3rver', bucket: 'b' },
    dynamodb: { endpoint: 'http://127.0.0.1:4', table: 't' },
    sqs: {
      endpoint: 'http://127.0.0.1:5',
      queueUrl: 'http://127.0.0.1:5/q',
      deadLetterQueueUrl: 'http://127.0.0.1:5/q-dlq',
    },
    webhook: { url: 'http://127.0.0.1:6/events', secret: 'whsec_dGVzdA==', replayTable: 't' },
    dataDir: dir,
    pid: 424242,
    ...overrides,
  };
}

describe('which way in wins', () => {
  const lookupUrl = 'https://abc123.execute-api.us-west-2.amazonaws.com/v1/';

  it('an explicit --stack beats ARCHIVER_LOOKUP_URL from the environment', async () => {
    const asked: string[] = [];
    const c = ioFactory();
    // commander reads an option's variable from process.env.
    vi.stubEnv('ARCHIVER_LOOKUP_URL', lookupUrl);
    let code: number;
    try {
      code = await runProgram(['--stack', 'prod', 'lookup', '--file', 'claude_file_01X'], {
        io: c.io,
        target: targetDepsFactory({
          readOutputs: async (name) => {
            asked.push(name);
            throw new CliError('outputs read');
          },
        }),
      });
    } finally {
      vi.unstubAllEnvs();
    }
    expect(code).toBe(1);
    expect(c.stderr).toEqual(['archiver: outputs read']);
    expect(asked).toEqual(['claude-file-archiver-prod-service']);
  });

  it('--lookup-url beats ARCHIVER_STACK; the two flags together are a usage error', async () => {
    const deps = targetDepsFactory();
    expect(resolveTarget({ stack: 'prod', stackSource: 'env', lookupUrl, lookupUrlSource: 'cli' }, deps).label).toBe(
      'lookup API https://abc123.execute-api.us-west-2.amazonaws.com',
    );
    expect(() => resolveTarget({ stack: 'prod', stackSource: 'cli', lookupUrl, lookupUrlSource: 'cli' }, deps)).toThrow(
      'give either --stack or --lookup-url, not both',
    );
  });

  it('a stack file found in the current folder is used only when every URL in it is loopback', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'archiver-cli-cwd-'));
    try {
      const planted = localStackInfo(dir, {
        upstream: { url: 'https://collector.example.net', sample: false },
      });
      await writeFile(join(dir, 'stack.json'), JSON.stringify(planted));
      const env = { ANTHROPIC_API_KEY: 'sk-ant-api01-operator' };
      const found = targetDepsFactory({ env, defaultDataDirs: [{ path: dir, trusted: false }] });
      await expect(resolveTarget({}, found).upstream()).rejects.toThrow(
        /found in the current folder and names a URL that is not on this machine \(https:\/\/collector\.example\.net\)/,
      );
      // Named explicitly, it is the operator's choice.
      expect((await resolveTarget({ dataDir: dir }, targetDepsFactory({ env })).upstream()).baseUrl).toBe(
        'https://collector.example.net',
      );
      // A loopback-only stack file in the current folder is used as before.
      await writeFile(join(dir, 'stack.json'), JSON.stringify(localStackInfo(dir)));
      expect((await resolveTarget({}, found).lookup()).url).toBe('http://127.0.0.1:1');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('docs/cli.md and --help agree', () => {
  const section = readFileSync('docs/cli.md', 'utf8');
  const program = buildProgram({ io: ioFactory().io, target: targetDepsFactory() });

  it('docs/cli.md documents every command with each of its options, and no option that does not exist', () => {
    const known = new Set<string>(program.options.map((o) => o.long ?? ''));
    for (const { path, cmd } of allCommands(program)) {
      const row = section
        .split('\n')
        .find((line) => line.startsWith(`| \`archiver ${path} `) || line.startsWith(`| \`archiver ${path}\``));
      expect(row, `docs/cli.md row for archiver ${path}`).toBeDefined();
      for (const option of cmd.options) {
        known.add(option.long ?? '');
        expect(row, `${path} ${option.long}`).toContain(option.long);
      }
    }
    for (const mentioned of section.match(/--[a-z][a-z0-9-]*/g) ?? []) {
      // --silent is npm's own, in `npm run --silent archiver -- …`.
      if (mentioned === '--help' || mentioned === '--silent') continue;
      expect(known.has(mentioned), `docs/cli.md mentions ${mentioned}`).toBe(true);
    }
  });

  it('docs/cli.md lists the same exit codes as --help', () => {
    for (const code of ['0', '1', '2', '3', '130']) expect(section).toMatch(new RegExp(`\\|\\s*${code}\\s+\\|`));
  });
});
