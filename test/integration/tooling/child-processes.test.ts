import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ManagedChild,
  processGroupAlive,
  REPO_ROOT,
  startChild,
  TSX_BIN,
  waitForLine,
} from '../../../tools/child-processes.js';

/** True when `pid` exists and is not a zombie (a killed orphan stays one where PID 1 does not reap). */
function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

const started: ManagedChild[] = [];
const start = (...args: Parameters<typeof startChild>): ManagedChild => {
  const child = startChild(...args);
  started.push(child);
  return child;
};
afterEach(async () => {
  await Promise.all(started.splice(0).map((child) => child.stop('SIGKILL', 0)));
});

describe('startChild / stop', () => {
  it('leaves nothing alive when the child has spawned a grandchild', async () => {
    const child = start('sleeper', 'sh', ['-c', 'sleep 300 & echo "grandchild $!"; sleep 300']);
    const [, grandchild] = await waitForLine(child, /^grandchild (\d+)$/, 5000);
    const grandchildPid = Number(grandchild);
    expect(processGroupAlive(child.pid)).toBe(true);
    expect(processRunning(grandchildPid)).toBe(true);

    await child.stop();

    expect(processGroupAlive(child.pid)).toBe(false);
    expect(processRunning(child.pid)).toBe(false);
    expect(processRunning(grandchildPid)).toBe(false);
    expect(await child.exited).toBeNull(); // ended by SIGTERM
  });

  it('escalates to SIGKILL when the group ignores the signal', async () => {
    const child = start('stubborn', 'sh', [
      '-c',
      "trap '' TERM; (trap '' TERM; sleep 300) & echo ready; wait",
    ]);
    await waitForLine(child, /^ready$/, 5000);
    const before = Date.now();
    await child.stop('SIGTERM', 300);
    expect(Date.now() - before).toBeGreaterThanOrEqual(300);
    expect(processGroupAlive(child.pid)).toBe(false);
  });

  it('can be stopped again, and after exiting on its own', async () => {
    const child = start('short', 'sh', ['-c', 'echo done; exit 3']);
    expect(await child.exited).toBe(3);
    await child.stop();
    await child.stop();
    expect(child.output()).toBe('done\n');
  });

  it('throws when the program cannot be started', () => {
    expect(() => startChild('missing', '/nonexistent/homebed-program', [])).toThrow(
      /missing: could not start/,
    );
  });
});

describe('output capture', () => {
  it('passes complete lines with their stream to onLine, across chunk boundaries and in UTF-8', async () => {
    const lines: string[] = [];
    const child = start(
      'printer',
      'sh',
      [
        '-c',
        'printf "床位 1\\npart"; sleep 0.1; printf "ial\\n"; echo "跌倒 alarm" >&2; printf "no newline"',
      ],
      { onLine: (line, stream) => lines.push(`${stream}: ${line}`) },
    );
    await child.exited;
    await child.stop();
    // The order between the two pipes is not defined; within one stream it is.
    expect(lines.filter((line) => line.startsWith('stdout'))).toEqual([
      'stdout: 床位 1',
      'stdout: partial',
      'stdout: no newline',
    ]);
    expect(lines.filter((line) => line.startsWith('stderr'))).toEqual(['stderr: 跌倒 alarm']);
    expect(child.output()).toContain('床位 1\npartial\n');
  });

  it('keeps only the last ~200 KB', async () => {
    const child = start('chatty', process.execPath, [
      '-e',
      "for (let i = 0; i < 4000; i++) console.log(String(i).padStart(6, '0') + 'x'.repeat(100));",
    ]);
    await child.exited;
    await child.stop();
    const output = child.output();
    expect(output.length).toBeLessThanOrEqual(200 * 1024 * 1.25);
    expect(output.length).toBeGreaterThanOrEqual(200 * 1024 - 200);
    expect(output.trimEnd().endsWith(`003999${'x'.repeat(100)}`)).toBe(true);
    expect(output).not.toContain('000000xxx');
  });

  it('uses the given cwd and env', async () => {
    const child = start('env', 'sh', ['-c', 'pwd; echo "$HOMEBED_PROBE"'], {
      cwd: '/tmp',
      env: { PATH: process.env.PATH, HOMEBED_PROBE: 'probe-value' },
    });
    await waitForLine(child, /^probe-value$/, 5000);
    expect(child.output()).toMatch(/^\/tmp\n/);
  });
});

describe('waitForLine', () => {
  it('returns the match, also for a line printed before the call', async () => {
    const child = start('early', 'sh', ['-c', 'echo "listening on 4321"; sleep 300']);
    await waitForLine(child, /listening/, 5000);
    const match = await waitForLine(child, /listening on (\d+)/g, 5000);
    expect(match[1]).toBe('4321');
  });

  it('can wait for a new occurrence only', async () => {
    const child = start('ticker', 'sh', ['-c', 'echo tick 1; sleep 0.3; echo tick 2; sleep 300']);
    await waitForLine(child, /tick 1/, 5000);
    const match = await waitForLine(child, /tick (\d)/, 5000, { includeEarlierLines: false });
    expect(match[1]).toBe('2');
  });

  it('rejects with the recent output when the child exits first', async () => {
    const child = start('crasher', 'sh', ['-c', 'echo "config error: port missing"; exit 2']);
    await expect(waitForLine(child, /listening/, 5000)).rejects.toThrow(
      /crasher: the process exited \(code 2\)[\s\S]*config error: port missing/,
    );
    // Also when the child had already exited before the call.
    await child.exited;
    await new Promise((resolve) => setTimeout(resolve, 600));
    await expect(waitForLine(child, /listening/, 5000)).rejects.toThrow(/already exited[\s\S]*port missing/);
  });

  it('rejects with the recent output on timeout', async () => {
    const child = start('slow', 'sh', ['-c', 'echo starting; sleep 300']);
    await expect(waitForLine(child, /ready/, 300)).rejects.toThrow(
      /slow: timed out after 300 ms[\s\S]*starting/,
    );
  });
});

describe('tsx children', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homebed-child-tsx-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('TSX_BIN points into this repository', () => {
    expect(TSX_BIN).toBe(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'));
  });

  it('a program run with tsx gets SIGTERM once when the group is signalled, and shuts down cleanly', async () => {
    const script = join(dir, 'service.ts');
    await writeFile(
      script,
      `let count: number = 0;
process.on('SIGTERM', () => {
  count += 1;
  console.log(\`SIGTERM \${count}\`);
  setTimeout(() => { console.log('clean shutdown'); process.exit(0); }, 300);
});
console.log('ready');
setInterval(() => {}, 1000);
`,
    );
    const child = start('service', process.execPath, [TSX_BIN, script], { cwd: REPO_ROOT });
    await waitForLine(child, /^ready$/, 20_000);
    await child.stop('SIGTERM', 5000);
    expect(child.output()).toContain('SIGTERM 1');
    expect(child.output()).not.toContain('SIGTERM 2');
    expect(child.output()).toContain('clean shutdown');
    expect(await child.exited).toBe(0);
    expect(processGroupAlive(child.pid)).toBe(false);
  });
});
