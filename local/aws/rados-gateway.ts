/**
 * A real S3 implementation on this machine: Ceph's RADOS Gateway (Debian package radosgw, 16.2
 * Pacific) on a single-node cluster bound to 127.0.0.1. Unlike the emulators it verifies Content-MD5
 * (400 BadDigest), keeps real object versions, enforces Object Lock, verifies and expires SigV4
 * presigned URLs, and evaluates IAM user policies. There is no standalone backend in Pacific (no
 * dbstore), so a monitor and an OSD run beside the gateway: startRadosGateway starts all three
 * (1.6-4 s on an idle 2-core machine, 7-20 s when it is heavily loaded; ~140 MB RSS) and stop()
 * kills them. The OSD keeps objects in RAM (memstore, see rados-gateway-config.ts), so a cluster
 * lives exactly as long as its daemons: every start begins with an empty cluster.
 *
 * Used by `npm start` with ARCHIVER_S3=rgw (local/start.ts) and by the integration tests' real-S3
 * tier (test/support/global-setup.ts; test/support/rados-gateway.ts adds the IAM helpers tests use).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cephConf, clusterPaths, freeLoopbackPort } from './rados-gateway-config.js';
import { runTool, sleep, spawnDaemon, stopDaemons, tailOf, waitUntil, type Daemon } from './rados-gateway-processes.js';

export { isRadosGatewayInstalled, RADOS_GATEWAY_INSTALL_COMMAND } from './rados-gateway-config.js';

export interface RadosGatewayCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What another process (a vitest worker, the CLI) needs to use a running gateway: plain data only. */
export interface RadosGatewayInfo {
  /** http://127.0.0.1:PORT, for S3 (path-style) and for the IAM API alike. */
  endpoint: string;
  region: string;
  /** A user that owns the buckets it creates and may set other users' policies. */
  adminCredentials: RadosGatewayCredentials;
  /** ceph.conf of the cluster, for radosgw-admin. */
  configFile: string;
}

export interface RunningRadosGateway extends RadosGatewayInfo {
  /** Milliseconds from the call to startRadosGateway until the admin user existed. */
  startupMs: number;
  /** Kills the daemons and removes a temporary folder (a `dir` given is kept); safe to call twice. */
  stop(): Promise<void>;
}

export interface StartRadosGatewayOptions {
  /** Region the clients sign for; the gateway accepts any. */
  region?: string;
  /** RAM the in-memory OSD may use for object data. Default 1 GiB. */
  memstoreBytes?: number;
  /** Time limit of each start-up step (monitor, OSD, gateway, admin user). Default 60 s. */
  stepTimeoutMs?: number;
  /**
   * The cluster's folder (config, monitor store, logs). It is emptied at start, since a memstore OSD
   * cannot bring its objects back, and kept at stop so its logs can be read. Default: a new
   * temporary folder, removed at stop.
   */
  dir?: string;
  /** The admin user's keys (default: random ones), e.g. the key every local client already signs with. */
  adminCredentials?: RadosGatewayCredentials;
  /** Called once when a daemon exits although stop() was not called (the cluster then cannot serve). */
  onUnexpectedExit?: (reason: string) => void;
}

const ADMIN_UID = 'archiver-admin';

/** Writes a fresh cluster into a new temporary folder and starts it; rejects with the daemons' log tails. */
export async function startRadosGateway(opts: StartRadosGatewayOptions = {}): Promise<RunningRadosGateway> {
  const startedAt = Date.now();
  const stepTimeoutMs = opts.stepTimeoutMs ?? 60_000;
  const temporary = opts.dir === undefined;
  if (opts.dir !== undefined) await rm(opts.dir, { recursive: true, force: true });
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'archiver-rgw-')));
  const paths = clusterPaths(dir);
  const daemons: Daemon[] = [];
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await stopDaemons(daemons);
      if (temporary) await rm(dir, { recursive: true, force: true });
    })());
  let serving = false;
  const onExit = (daemon: Daemon): void => {
    // During start-up a dead daemon fails the start itself, with its log (see `step`).
    if (serving && stopped === undefined)
      opts.onUnexpectedExit?.(`the RADOS gateway's ${daemon.name} ${daemon.exited}`);
  };

  try {
    for (const sub of [paths.run, paths.log, paths.crash, paths.monData, paths.osdData, paths.rgwData]) {
      await mkdir(sub, { recursive: true });
    }
    const [monPort = 0, rgwPort = 0] = await distinctFreePorts(2);
    const fsid = randomUUID();
    await writeFile(
      paths.conf,
      cephConf({ dir, fsid, monPort, rgwPort, memstoreBytes: opts.memstoreBytes ?? 1 << 30 }),
    );
    // CEPH_CONF points every Ceph program at this cluster, never at /etc/ceph/ceph.conf.
    const env: NodeJS.ProcessEnv = { ...process.env, CEPH_CONF: paths.conf };
    delete env.CEPH_ARGS;
    const tool = (program: string, ...args: string[]) => runTool(program, args, env, stepTimeoutMs);
    // Just after the monitor forms its quorum, a command is sometimes refused with "Error EPERM:
    // problem getting command descriptions from mon." while the monitor logs `handle_command on fsid
    // 00000000-0000-0000-0000-000000000000 != <fsid>`: the client sent it before it had the monitor
    // map. (Seen ~1 start in 12 on a loaded machine.) A new client succeeds; every command sent
    // here is idempotent (`osd new` with the same UUID returns the same id), so it is retried.
    const ceph = async (...args: string[]) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await tool('ceph', ...args);
        } catch (err) {
          if (attempt >= 5 || !/EPERM|wrong fsid/.test((err as Error).message)) throw err;
          await sleep(200 * attempt);
        }
      }
    };
    const allAlive = (): string | undefined => {
      const dead = daemons.find((d) => d.exited !== undefined);
      return dead && `${dead.name} ${dead.exited}`;
    };
    const step = async (what: string, run: () => Promise<unknown>): Promise<void> => {
      try {
        await run();
      } catch (err) {
        throw new Error(`RADOS gateway did not start: ${what}: ${(err as Error).message}\n${await logTails(daemons)}`);
      }
    };

    await step('monitor', async () => {
      await tool(
        'ceph-authtool',
        '--create-keyring',
        paths.keyring,
        '--gen-key',
        '-n',
        'mon.',
        '--cap',
        'mon',
        'allow *',
      );
      // --addv with an explicit v1 address: plain --add with a port other than 6789 makes the
      // monitor expect msgr2, and clients then hang 300 s in authentication.
      await tool('monmaptool', '--create', '--fsid', fsid, '--addv', 'a', `[v1:127.0.0.1:${monPort}]`, paths.monmap);
      await tool('ceph-mon', '--mkfs', '-i', 'a', '--monmap', paths.monmap, '--keyring', paths.keyring);
      daemons.push(spawnDaemon('ceph-mon', 'ceph-mon', ['-f', '-i', 'a'], paths.logOf('mon.a'), env, onExit));
    });

    await step('OSD', async () => {
      const osdUuid = randomUUID();
      // The first command to reach the monitor also proves it is up (client mount timeout 30 s).
      await ceph('osd', 'new', osdUuid);
      await ceph('osd', 'crush', 'add', 'osd.0', '1.0', 'root=default');
      await tool('ceph-osd', '-i', '0', '--mkfs', '--osd-uuid', osdUuid);
      daemons.push(spawnDaemon('ceph-osd', 'ceph-osd', ['-f', '-i', '0'], paths.logOf('osd.0'), env, onExit));
      await waitUntil('osd.0 up', async () => isOsdUp(await ceph('osd', 'dump', '--format', 'json')), {
        timeoutMs: stepTimeoutMs,
        intervalMs: 250,
        stillAlive: allAlive,
      });
    });

    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await step('gateway', async () => {
      daemons.push(
        spawnDaemon('radosgw', 'radosgw', ['-f', '-n', 'client.rgw'], paths.logOf('client.rgw'), env, onExit),
      );
      // The gateway opens its port only after it has created its pools; an anonymous GET / then
      // answers 200 with an empty bucket list.
      await waitUntil(`${endpoint}/ answering 200`, () => answers200(endpoint), {
        timeoutMs: stepTimeoutMs,
        intervalMs: 100,
        stillAlive: allAlive,
      });
    });

    const info = { endpoint, region: opts.region ?? 'us-east-1', configFile: paths.conf };
    const adminCredentials = opts.adminCredentials ?? randomCredentials();
    await step('admin user', async () => {
      // The user-policy capability is what lets this user call PutUserPolicy on other users.
      await createRadosGatewayUser(paths.conf, ADMIN_UID, {
        extraArgs: ['--caps', 'user-policy=*'],
        timeoutMs: stepTimeoutMs,
        credentials: adminCredentials,
      });
    });
    serving = true;
    return { ...info, adminCredentials, startupMs: Date.now() - startedAt, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Creates a gateway user with radosgw-admin (random keys unless given) and returns its keys. */
export async function createRadosGatewayUser(
  configFile: string,
  uid: string,
  opts: { extraArgs?: string[]; timeoutMs?: number; credentials?: RadosGatewayCredentials } = {},
): Promise<RadosGatewayCredentials> {
  const credentials = opts.credentials ?? randomCredentials();
  const env = { ...process.env, CEPH_CONF: configFile };
  await runTool(
    'radosgw-admin',
    [
      'user',
      'create',
      '--uid',
      uid,
      '--display-name',
      uid,
      '--access-key',
      credentials.accessKeyId,
      '--secret-key',
      credentials.secretAccessKey,
      ...(opts.extraArgs ?? []),
    ],
    env,
    opts.timeoutMs ?? 60_000,
  );
  return credentials;
}

function randomCredentials(): RadosGatewayCredentials {
  return {
    accessKeyId: randomBytes(10).toString('hex').toUpperCase(),
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
}

function isOsdUp({ stdout }: { stdout: string }): boolean {
  const dump = JSON.parse(stdout) as { osds?: Array<{ osd: number; up: number }> };
  return dump.osds?.some((osd) => osd.osd === 0 && osd.up === 1) ?? false;
}

async function answers200(endpoint: string): Promise<boolean> {
  const response = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.status === 200;
}

/** Ports for the monitor and the gateway; two port-0 binds in a row may return the same port. */
async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freeLoopbackPort());
  return [...ports];
}

/**
 * The daemons' recent logs for a start-up error: in full for one that died (or, if none did, the last
 * one started, which the failed step was waiting for), a few lines for the others.
 */
async function logTails(daemons: Daemon[]): Promise<string> {
  const culprit = daemons.find((d) => d.exited !== undefined) ?? daemons.at(-1);
  const ordered = culprit ? [culprit, ...daemons.filter((d) => d !== culprit)] : [];
  const parts = await Promise.all(
    ordered.map(async (d) => {
      const full = d === culprit;
      const stderr = full ? d.stderrTail().trim() : '';
      const log = await tailOf(d.logFile, full ? 30 : 5);
      return (
        `--- ${d.name} (${d.exited ?? 'running'}), tail of ${d.logFile} ` +
        `---\n${log}${stderr ? `\n--- ${d.name} stderr ---\n${stderr}` : ''}`
      );
    }),
  );
  return parts.join('\n');
}
