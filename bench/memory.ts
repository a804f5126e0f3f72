/**
 * Memory and CPU readings of one process, for the benchmark. Linux's /proc gives the kernel's own
 * figures (VmRSS, VmHWM: the resident-set high-water mark, resettable through clear_refs); elsewhere
 * the helpers return undefined and the benchmark falls back to sampling.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ is 100 on every Linux architecture in use). */
const CLOCK_TICKS_PER_SECOND = 100;

/** A field of /proc/<pid>/status given in kB (VmRSS, VmHWM), in bytes; undefined when unreadable. */
export function readStatusBytes(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text);
  const kb = match?.[1];
  return kb === undefined ? undefined : Number(kb) * 1024;
}

/**
 * Resets this process's VmHWM to its current RSS (`echo 5 > /proc/self/clear_refs`, Linux 4.0+), so
 * that a later VmHWM reading is the peak of what ran in between. False when not supported.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU seconds a process has used so far, from /proc/<pid>/stat; undefined when unreadable. */
export function readCpuSeconds(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** The pid of a direct child of `parentPid` whose command line contains `match`; undefined when none (or no /proc). */
export function findChildPid(parentPid: number, match: string): number | undefined {
  return findChildPids(parentPid, [match])[0];
}

/** The pids of the direct children of `parentPid` whose command line contains one of `matches` (none without /proc). */
export function findChildPids(parentPid: number, matches: readonly string[]): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parentPid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (matches.some((m) => cmdline.includes(m))) found.push(Number(entry));
    } catch {
      // The process exited while being read.
    }
  }
  return found;
}

export interface SampledPeak {
  /** Highest RSS seen by sampling. */
  rssBytes: number;
  /** Highest `arrayBuffers` (Buffers and other off-heap memory the JS code holds) seen by sampling. */
  arrayBuffersBytes: number;
  /** Highest V8 heap in use seen by sampling. */
  heapUsedBytes: number;
  samples: number;
}

/** Samples this process's memory every `intervalMs` until stopped; the timer never holds the process open. */
export function sampleOwnMemory(intervalMs: number): { stop(): SampledPeak } {
  const peak: SampledPeak = { rssBytes: 0, arrayBuffersBytes: 0, heapUsedBytes: 0, samples: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peak.rssBytes = Math.max(peak.rssBytes, m.rss);
    peak.arrayBuffersBytes = Math.max(peak.arrayBuffersBytes, m.arrayBuffers);
    peak.heapUsedBytes = Math.max(peak.heapUsedBytes, m.heapUsed);
    peak.samples += 1;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { ...peak };
    },
  };
}

/**
 * Samples another process's RSS, peak RSS (VmHWM) and CPU time every `intervalMs` from /proc, keeping
 * the last readings taken before it exited (the kernel's VmHWM makes the peak exact up to the last
 * sample).
 */
export function sampleProcess(
  pid: number,
  intervalMs: number,
): { stop(): { peakRssBytes: number | undefined; cpuSeconds: number | undefined; samples: number } } {
  let peakRssBytes: number | undefined;
  let cpuSeconds: number | undefined;
  let samples = 0;
  const sample = (): void => {
    const rss = readStatusBytes(pid, 'VmRSS');
    const hwm = readStatusBytes(pid, 'VmHWM');
    const cpu = readCpuSeconds(pid);
    if (rss === undefined && hwm === undefined) return; // exited, or no /proc
    peakRssBytes = Math.max(peakRssBytes ?? 0, rss ?? 0, hwm ?? 0);
    if (cpu !== undefined) cpuSeconds = cpu;
    samples += 1;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      return { peakRssBytes, cpuSeconds, samples };
    },
  };
}
