import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  parseRssBytes,
  parseStat,
  readProcess,
  readProcessTree,
  UsageMonitor,
} from '../../../bench/lib/process-usage.js';

describe('bench process usage from /proc', () => {
  it('parses utime + stime even when the command name holds spaces and parentheses', () => {
    // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const stat = '4242 (node (worker) 1) S 17 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 11';
    expect(parseStat(stat, 100)).toEqual({ ppid: 17, cpuSeconds: 3 });
  });

  it('refuses a line that is not a stat line', () => {
    expect(() => parseStat('no parentheses here', 100)).toThrow(/stat/);
  });

  it('reads VmRSS in kB as bytes, and 0 for a zombie without it', () => {
    expect(parseRssBytes('Name:\tnode\nVmRSS:\t   51200 kB\nThreads:\t11\n')).toBe(51200 * 1024);
    expect(parseRssBytes('Name:\tnode\nState:\tZ (zombie)\n')).toBe(0);
  });

  it('reads this very process: its memory is nonzero and its CPU time grows with work', () => {
    const before = readProcess(process.pid);
    expect(before?.rssBytes).toBeGreaterThan(10 * 2 ** 20);
    // Spin until Node itself says 0.2 s of CPU went by (wall time would depend on the machine's load).
    const start = process.cpuUsage();
    let x = 0;
    while (process.cpuUsage(start).user < 200_000) x += Math.sqrt(x + 1);
    expect(x).toBeGreaterThan(0);
    const after = readProcess(process.pid);
    expect((after?.cpuSeconds ?? 0) - (before?.cpuSeconds ?? 0)).toBeGreaterThanOrEqual(0.18);
  });

  it('a process tree starts with its root; a pid that does not exist has none', () => {
    expect(readProcessTree(process.pid)[0]?.pid).toBe(process.pid);
    expect(readProcessTree(2 ** 22 + 1)).toEqual([]);
  });

  it('a monitor counts a busy grandchild against the root it watches, and an idle tree as near zero', async () => {
    // A shell (the root) whose child spins until it has used 0.8 s of CPU (however loaded the machine is),
    // says so, and then idles.
    const busy = "while (process.cpuUsage().user < 800000); console.log('done'); setTimeout(() => {}, 2000);";
    const root = spawn('sh', ['-c', `"${process.execPath}" -e "${busy}"; true`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const monitor = new UsageMonitor(root.pid as number, 100);
      monitor.start();
      await new Promise((r) => root.stdout?.once('data', r));
      const report = monitor.stop();
      expect(report.samples).toBeGreaterThanOrEqual(2);
      // The node child started after the monitor: all of its CPU time counts.
      expect(report.cpuSeconds).toBeGreaterThanOrEqual(0.8);
      expect(report.cpuPercent).toBeGreaterThan(0);
      expect(report.rssMiB.max).toBeGreaterThan(20);

      const idle = new UsageMonitor(root.pid as number, 100);
      idle.start();
      await new Promise((r) => setTimeout(r, 600));
      expect(idle.stop().cpuSeconds).toBeLessThan(0.2);
    } finally {
      root.kill('SIGKILL');
    }
  });
});
