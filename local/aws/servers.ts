/**
 * The local AWS stack: real servers that speak the AWS wire protocols, started together and bound
 * to 127.0.0.1 only. One module per server (dynalite-server.ts, fauxqs-server.ts, s3rver-server.ts);
 * creating the bucket, queues and table on them is resources.ts.
 *
 * - DynamoDB: dynalite, in memory or on disk under `<dataDir>/dynamodb`.
 * - SQS: fauxqs, in memory or persisted to SQLite under `<dataDir>/fauxqs` (messages, with their
 *   visibility state, survive a crash and a restart).
 * - S3: fauxqs (correct multipart; in memory, or in the same SQLite file) or s3rver (on disk under
 *   `<dataDir>/s3`, expiring presigned URLs, no AbortMultipartUpload; with a data folder, every object
 *   it writes or deletes is appended to `<dataDir>/s3-writes.log`, since it keeps no versions).
 *
 * - S3 on the RADOS Gateway (`s3: 'rgw'`, Ceph's radosgw from Debian, rados-gateway.ts): real
 *   versions and Object Lock, so legal holds and fixity run against S3 semantics. Its OSD keeps objects
 *   in RAM: the cluster starts empty each time (under `<dataDir>/rgw`), whatever the data folder holds.
 *
 * Why these: they install from npm and run in this process (s3rver in a child process), so neither
 * `npm start` nor the tests need Docker or a network. Each speaks what the AWS SDK v3 sends: fauxqs
 * answers SQS's JSON protocol (which @aws-sdk/client-sqs uses from 3.447 on; query-only emulators do
 * not work with it). What they lack, and the code therefore does not rely on locally: dynalite has no
 * transactions (the index uses single-item conditional writes only); neither S3 server keeps object
 * versions or rejects a wrong Content-MD5 (the pipeline's own hashing protects integrity); fauxqs
 * refuses request bodies over 11 MiB; s3rver needs the OpenSSL legacy provider (s3rver-process.ts).
 * Sources: the packages' READMEs (dynalite 4, fauxqs 2.4, s3rver 3.7); the behaviour relied on is
 * pinned by test/integration/local-aws-servers.test.ts.
 */
import { join } from 'node:path';
import { startDynalite } from './dynalite-server.js';
import { startFauxqsServer, type InFlightMessage } from './fauxqs-server.js';
import { LOCAL_REGION } from '../../shared/platform/local-account.js';
import type { RunningServer } from './running-server.js';
import { startS3rver } from './s3rver-server.js';
import { startRadosGateway } from './rados-gateway.js';
import { LOCAL_ACCESS_KEY } from '../../shared/platform/local-account.js';

export type LocalS3Server = 'fauxqs' | 's3rver' | 'rgw';

export interface LocalAwsOptions {
  /** Which server answers S3: fauxqs (in memory), s3rver (on disk) or the RADOS Gateway (Object Lock). */
  s3: LocalS3Server;
  /**
   * Directory for on-disk state: dynalite's LevelDB under `dynamodb/`, fauxqs's SQLite under
   * `fauxqs/`, s3rver's objects under `s3/` and its write log in `s3-writes.log`. Without it
   * everything is in memory and s3rver (if chosen) uses a temporary directory removed on stop. The
   * RADOS Gateway's cluster goes under `rgw/`, emptied at each start (its objects live in RAM).
   */
  dataDir?: string;
  /** Fixed ports; 0 or absent picks a free port. */
  ports?: { dynamodb?: number; fauxqs?: number; s3rver?: number };
  /** Called when a server in another process (s3rver, a Ceph daemon) exits without being stopped. */
  onUnexpectedExit?: (reason: string) => void;
}

export interface LocalAws {
  region: string;
  s3Endpoint: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  s3Server: LocalS3Server;
  /** Messages of an SQS queue that were received and not deleted (see crash-recovery.ts). */
  inFlightMessages(queueName: string): InFlightMessage[];
  /** Stops every server this call started; safe to call twice. */
  stop(): Promise<void>;
}

/** Starts DynamoDB (dynalite), SQS + optionally S3 (fauxqs) and optionally s3rver, on loopback. */
export async function startLocalAws(opts: LocalAwsOptions): Promise<LocalAws> {
  const started: RunningServer[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  };
  try {
    const dynamodb = await startDynalite({
      ...(opts.dataDir ? { path: join(opts.dataDir, 'dynamodb') } : {}),
      port: opts.ports?.dynamodb ?? 0,
    });
    started.push(dynamodb);
    const fauxqs = await startFauxqsServer({
      ...(opts.dataDir ? { dataDir: join(opts.dataDir, 'fauxqs') } : {}),
      port: opts.ports?.fauxqs ?? 0,
    });
    started.push(fauxqs);
    let s3Endpoint = fauxqs.endpoint;
    if (opts.s3 === 's3rver') {
      const s3rver = await startS3rver({
        ...(opts.dataDir ? { directory: join(opts.dataDir, 's3'), writeLog: join(opts.dataDir, 's3-writes.log') } : {}),
        port: opts.ports?.s3rver ?? 0,
        ...(opts.onUnexpectedExit ? { onUnexpectedExit: opts.onUnexpectedExit } : {}),
      });
      started.push(s3rver);
      s3Endpoint = s3rver.endpoint;
    }
    if (opts.s3 === 'rgw') {
      const gateway = await startRadosGateway({
        region: LOCAL_REGION,
        ...(opts.dataDir ? { dir: join(opts.dataDir, 'rgw') } : {}),
        // The key every local client signs with (useLocalAwsEnvironment): they all act as the admin user,
        // who owns the buckets.
        adminCredentials: { accessKeyId: LOCAL_ACCESS_KEY, secretAccessKey: LOCAL_ACCESS_KEY },
        ...(opts.onUnexpectedExit ? { onUnexpectedExit: opts.onUnexpectedExit } : {}),
      });
      started.push({ endpoint: gateway.endpoint, port: Number(new URL(gateway.endpoint).port), stop: gateway.stop });
      s3Endpoint = gateway.endpoint;
    }
    return {
      region: LOCAL_REGION,
      s3Endpoint,
      sqsEndpoint: fauxqs.endpoint,
      dynamodbEndpoint: dynamodb.endpoint,
      s3Server: opts.s3,
      inFlightMessages: (queueName) => fauxqs.inFlightMessages(queueName),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
