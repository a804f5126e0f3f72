/**
 * The configuration of a throwaway single-node Ceph cluster (Pacific, Debian's 16.2 packages) that
 * exists only to run a RADOS Gateway: one monitor, one in-memory OSD and the gateway, all on
 * 127.0.0.1, every file under one temporary folder. See rados-gateway.ts for how it is started.
 */
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** Every program startRadosGateway runs; Debian ships them in radosgw, ceph-mon, ceph-osd and ceph-common. */
export const RADOS_GATEWAY_PROGRAMS = [
  'radosgw',
  'radosgw-admin',
  'ceph-mon',
  'ceph-osd',
  'ceph',
  'ceph-authtool',
  'monmaptool',
] as const;

export const RADOS_GATEWAY_INSTALL_COMMAND =
  'apt-get install --no-install-recommends radosgw ceph-mon ceph-osd ceph-common';

/** Whether every program the gateway needs is on PATH. Synchronous so vitest.config.ts can call it. */
export function isRadosGatewayInstalled(path = process.env.PATH ?? ''): boolean {
  const dirs = path.split(delimiter).filter(Boolean);
  return RADOS_GATEWAY_PROGRAMS.every((program) => dirs.some((dir) => isExecutable(join(dir, program))));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A port that was free on 127.0.0.1 a moment ago (bound with port 0, then released). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port was assigned'))));
    });
  });
}

export interface CephConfOptions {
  /** The temporary folder that holds every file the daemons write. */
  dir: string;
  fsid: string;
  monPort: number;
  rgwPort: number;
  /** RAM the in-memory OSD may use for objects. */
  memstoreBytes: number;
}

/** Paths inside the temporary folder, shared by the config and the code that reads logs and pid files. */
export function clusterPaths(dir: string) {
  return {
    conf: join(dir, 'ceph.conf'),
    keyring: join(dir, 'keyring'),
    monmap: join(dir, 'monmap'),
    run: join(dir, 'run'),
    log: join(dir, 'log'),
    crash: join(dir, 'crash'),
    monData: join(dir, 'mon', 'ceph-a'),
    osdData: join(dir, 'osd', 'ceph-0'),
    rgwData: join(dir, 'rgw'),
    /** `log file = <log>/$name.log`; $name is the daemon's type.id. */
    logOf: (name: 'mon.a' | 'osd.0' | 'client.rgw') => join(dir, 'log', `${name}.log`),
  };
}

/**
 * ceph.conf. Each setting below is there for a reason observed with 16.2.15:
 * - The monitor speaks msgr v1 only (`v1:` address, `ms bind msgr2 = false`): with a msgr2 address
 *   on a port other than 6789 the client hung 300 s in authentication.
 * - `auth * required = none`: no keys to distribute; the cluster is reachable on loopback only and
 *   lives for one test run.
 * - Pools of size 1 with 8 PGs, no autoscaler and no mgr: one OSD must be enough for every pool the
 *   gateway creates, and nothing may warn or block about missing redundancy or a full disk (the
 *   data-avail thresholds are for the temp folder's filesystem, which may be nearly full).
 * - `paxos propose interval` 0.05 s instead of 1 s: the gateway creates its pools one at a time and
 *   each waits for a new OSD map, so the default made the gateway take ~9 s to open its port (<1 s now).
 * - `osd objectstore = memstore`: objects live in the OSD's RAM (capped by `memstore device bytes`);
 *   nothing touches a disk beyond logs, and stopping the OSD discards everything.
 * - `osd crush/class update on start = false`: with them on, the OSD died at start with
 *   `wrong fsid` about one run in four, likely the monitor's refusal of a command sent before the
 *   client had the monitor map (see the retried commands in rados-gateway.ts). The start-up adds
 *   osd.0 to the CRUSH map itself.
 * - No `osd max object name len` (a filestore-on-ext4 setting): memstore starts without it, and its
 *   usual value, 460, would refuse S3 keys that AWS accepts (up to 1024 bytes).
 * - Data, run, log, pid, admin-socket and crash paths all point into `dir`: Ceph's defaults are under
 *   /var/lib/ceph and /var/run/ceph, shared with any real cluster on the machine.
 */
export function cephConf(opts: CephConfOptions): string {
  const p = clusterPaths(opts.dir);
  return `[global]
fsid = ${opts.fsid}
mon host = v1:127.0.0.1:${opts.monPort}
ms bind msgr2 = false
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
keyring = ${p.keyring}
client mount timeout = 30
run dir = ${p.run}
admin socket = ${p.run}/$cluster-$name.asok
pid file = ${p.run}/$name.pid
log file = ${p.log}/$name.log
mon cluster log file = ${p.log}/$cluster.log
crash dir = ${p.crash}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
osd crush chooseleaf type = 0
mon max pg per osd = 1000
paxos propose interval = 0.05

[mon]
mon data = ${join(opts.dir, 'mon')}/$cluster-$id

[osd]
osd data = ${join(opts.dir, 'osd')}/$cluster-$id
osd objectstore = memstore
memstore device bytes = ${opts.memstoreBytes}
osd crush update on start = false
osd class update on start = false

[client.rgw]
rgw data = ${p.rgwData}
rgw frontends = beast endpoint=127.0.0.1:${opts.rgwPort}
`;
}
