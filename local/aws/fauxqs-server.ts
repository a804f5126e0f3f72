/**
 * fauxqs (SQS, S3, SNS in one process), bound to 127.0.0.1, in memory or persisted to SQLite.
 *
 * With `dataDir`, queues and messages (with their visibility state), buckets and objects are written
 * through to `<dataDir>/fauxqs.db` on every change and loaded again at start, so a crash loses no
 * queued job (fauxqs 2 uses `node:sqlite`, hence Node 22.5 or later).
 *
 * fauxqs 2.4.1's own `startFauxqs({ dataDir })` always listens on 0.0.0.0 (its `host` option only
 * names the host in queue URLs), and no local server may listen beyond loopback. So this module
 * assembles what `startFauxqs` does from its parts: the stores and the persistence manager (loaded
 * from the package's own files, which its `exports` map does not list) handed to the public
 * `buildApp({ stores })`, and `listen` on 127.0.0.1. This follows dist/app.js of fauxqs 2.4.1
 * (pinned exactly in package.json); test/integration/local-aws-servers.test.ts checks the binding and
 * that messages survive a restart.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import { buildApp, type BuildAppOptions } from 'fauxqs';
import { LOOPBACK_HOST } from '../loopback.js';
import { LOCAL_REGION } from '../../shared/platform/local-account.js';
import { callOnce, type RunningServer } from './running-server.js';

type Stores = NonNullable<BuildAppOptions['stores']>;
type Persistence = NonNullable<Stores['sqsStore']['persistence']>;

/** A message that was received and not deleted: its visibility timeout has not run out. */
export interface InFlightMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
}

export interface FauxqsServer extends RunningServer {
  /** The messages of queue `queueName` that are in flight now (none for an unknown queue). */
  inFlightMessages(queueName: string): InFlightMessage[];
}

/** Starts fauxqs on 127.0.0.1; with `dataDir` its state persists there across restarts. */
export async function startFauxqsServer(opts: { port?: number; dataDir?: string } = {}): Promise<FauxqsServer> {
  const parts = await loadFauxqsParts();
  const stores: Stores = {
    sqsStore: new parts.SqsStore(),
    snsStore: new parts.SnsStore(),
    s3Store: new parts.S3Store(),
  };
  let persistence: Persistence | undefined;
  let repairs: DatabaseSync | undefined;
  if (opts.dataDir) {
    persistence = new parts.PersistenceManager(opts.dataDir);
    // fauxqs 2.4.1 records "visible again" (ChangeMessageVisibility to 0) by setting the receive count
    // to NULL in a NOT NULL column: the call fails, and the message drops out of the running queue
    // until a restart. The write it means to do clears the in-flight fields; do that instead, on a
    // second connection to the same SQLite file (WAL; every statement here commits on its own).
    repairs = new DatabaseSync(join(opts.dataDir, 'fauxqs.db'));
    const clearInflight = repairs.prepare(
      'UPDATE sqs_messages SET receipt_handle = NULL, visibility_deadline = NULL WHERE message_id = ?',
    );
    persistence.updateMessageReady = (messageId: string) => void clearInflight.run(messageId);
    // As startFauxqs does: load first, then attach, so that loading writes nothing back.
    persistence.load(stores.sqsStore, stores.snsStore, stores.s3Store);
    stores.sqsStore.persistence = persistence;
    stores.snsStore.persistence = persistence;
    for (const queue of stores.sqsStore.allQueues()) queue.persistence = persistence;
    stores.s3Store.persistence = persistence;
  }
  const app = buildApp({ logger: false, defaultRegion: LOCAL_REGION, stores });
  if (persistence) {
    const db = persistence;
    const second = repairs;
    app.addHook('preClose', () => {
      db.close();
      second?.close();
    });
  }
  const address = await app.listen({ port: opts.port ?? 0, host: LOOPBACK_HOST });
  const port = Number(new URL(address).port);
  return {
    endpoint: `http://${LOOPBACK_HOST}:${port}`,
    port,
    inFlightMessages(queueName) {
      const inflight = stores.sqsStore.inspectQueue(queueName)?.messages.inflight ?? [];
      return inflight.map((m) => ({
        messageId: m.message.messageId,
        receiptHandle: m.receiptHandle,
        body: m.message.body,
      }));
    },
    stop: callOnce(async () => {
      const closing = app.close();
      // A long-polling ReceiveMessage would otherwise hold close() for up to 20 s.
      app.server.closeAllConnections();
      await closing;
    }),
  };
}

interface FauxqsParts {
  SqsStore: new () => Stores['sqsStore'];
  SnsStore: new () => Stores['snsStore'];
  S3Store: new () => Stores['s3Store'];
  PersistenceManager: new (dataDir: string) => Persistence;
}

let partsLoaded: Promise<FauxqsParts> | undefined;

function loadFauxqsParts(): Promise<FauxqsParts> {
  return (partsLoaded ??= (async () => {
    const dist = fauxqsDistDir();
    const load = async (file: string, name: string): Promise<unknown> => {
      const mod = (await import(pathToFileURL(join(dist, file)).href)) as Record<string, unknown>;
      if (typeof mod[name] !== 'function')
        throw new Error(`fauxqs: ${file} exports no ${name} (this code follows fauxqs 2.4.1)`);
      return mod[name];
    };
    return {
      SqsStore: (await load('sqs/sqsStore.js', 'SqsStore')) as FauxqsParts['SqsStore'],
      SnsStore: (await load('sns/snsStore.js', 'SnsStore')) as FauxqsParts['SnsStore'],
      S3Store: (await load('s3/s3Store.js', 'S3Store')) as FauxqsParts['S3Store'],
      PersistenceManager: (await load('persistence.js', 'PersistenceManager')) as FauxqsParts['PersistenceManager'],
    };
  })());
}

/** The installed package's dist/ folder, found the way Node looks for `fauxqs` from here. */
function fauxqsDistDir(): string {
  const candidates = createRequire(import.meta.url).resolve.paths('fauxqs') ?? [];
  for (const nodeModules of candidates) {
    const dist = join(nodeModules, 'fauxqs', 'dist');
    if (existsSync(join(dist, 'app.js'))) return dist;
  }
  throw new Error('fauxqs is not installed (run npm ci)');
}
