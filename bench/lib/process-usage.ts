/**
 * Memory and CPU of running programs, read from Linux's /proc the way `ps`
 * and `top` do: resident set size from `/proc/<pid>/status` (VmRSS) and CPU
 * time from `/proc/<pid>/stat` (utime + stime, in clock ticks). A program is
 * measured with its whole process tree, so a helper process it starts counts
 * against it.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { round } from './stats.js';

let clockTicks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`; 100 on every Linux we run on). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** One reading of one process. */
export interface ProcessReading {
  pid: number;
  ppid: number;
  rssBytes: number;
  /** User + system CPU time since the process started. */
  cpuSeconds: number;
}

/** Parse `/proc/<pid>/stat`; the command name may hold spaces and parentheses, so split after the last `)`. */
export function parseStat(stat: string, ticksPerSecond: number): { ppid: number; cpuSeconds: number } {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line');
  // Fields after the name: state(3) ppid(4) … utime(14) stime(15); index 0 here is field 3.
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (![ppid, utime, stime].every(Number.isFinite)) throw new Error('unexpected /proc/<pid>/stat layout');
  return { ppid, cpuSeconds: (utime + stime) / ticksPerSecond };
}

/** Parse VmRSS (kB) out of `/proc/<pid>/status`; 0 for a zombie, which has none. */
export function parseRssBytes(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Read one process, or null when it has gone. */
export function readProcess(pid: number): ProcessReading | null {
  try {
    const { ppid, cpuSeconds } = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicksPerSecond());
    const rssBytes = parseRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { pid, ppid, rssBytes, cpuSeconds };
  } catch {
    return null;
  }
}

/** `root` and every process below it, read now. */
export function readProcessTree(root: number): ProcessReading[] {
  const all: ProcessReading[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const reading = readProcess(Number(entry));
    if (reading) all.push(reading);
  }
  const children = new Map<number, ProcessReading[]>();
  for (const r of all) children.set(r.ppid, [...(children.get(r.ppid) ?? []), r]);
  const tree: ProcessReading[] = [];
  const rootReading = all.find((r) => r.pid === root);
  if (!rootReading) return tree;
  const queue = [rootReading];
  while (queue.length) {
    const next = queue.shift() as ProcessReading;
    tree.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return tree;
}

/** What a {@link UsageMonitor} saw over its window. */
export interface UsageReport {
  /** Length of the window. */
  wallSeconds: number;
  /** CPU time the tree used in the window. */
  cpuSeconds: number;
  /** cpuSeconds / wallSeconds × 100: 100 = one core busy all the time. */
  cpuPercent: number;
  /** Resident memory of the tree, summed over its processes, sampled every interval. */
  rssMiB: { mean: number; max: number; last: number };
  samples: number;
}

/**
 * Samples a process tree every `intervalMs` between start() and stop(). CPU is
 * counted per process from its first reading in the window (a process started
 * during the window counts from its own start: its baseline is 0).
 */
export class UsageMonitor {
  private timer: NodeJS.Timeout | null = null;
  private readonly baseline = new Map<number, number>();
  private readonly latestCpu = new Map<number, number>();
  private readonly rssSamples: number[] = [];
  private startedAt = 0;

  constructor(
    private readonly rootPid: number,
    private readonly intervalMs = 1_000,
  ) {}

  start(): void {
    if (this.timer) throw new Error('UsageMonitor already started');
    this.startedAt = performance.now();
    for (const r of readProcessTree(this.rootPid)) {
      this.baseline.set(r.pid, r.cpuSeconds);
      this.latestCpu.set(r.pid, r.cpuSeconds);
    }
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    let rss = 0;
    for (const r of readProcessTree(this.rootPid)) {
      if (!this.baseline.has(r.pid)) this.baseline.set(r.pid, 0);
      this.latestCpu.set(r.pid, r.cpuSeconds);
      rss += r.rssBytes;
    }
    this.rssSamples.push(rss);
  }

  stop(): UsageReport {
    if (!this.timer) throw new Error('UsageMonitor not started');
    clearInterval(this.timer);
    this.timer = null;
    this.sample();
    const wallSeconds = (performance.now() - this.startedAt) / 1000;
    let cpuSeconds = 0;
    for (const [pid, cpu] of this.latestCpu) cpuSeconds += cpu - (this.baseline.get(pid) ?? 0);
    const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
    const rss = this.rssSamples;
    return {
      wallSeconds: round(wallSeconds, 1),
      cpuSeconds: round(cpuSeconds, 2),
      cpuPercent: round((cpuSeconds / wallSeconds) * 100, 2),
      rssMiB: {
        mean: mib(rss.reduce((a, b) => a + b, 0) / rss.length),
        max: mib(Math.max(...rss)),
        last: mib(rss[rss.length - 1] as number),
      },
      samples: rss.length,
    };
  }
}
