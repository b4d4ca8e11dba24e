import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startChild, TSX_BIN, waitForLine } from '../../../tools/child-processes.js';

/** True when `pid` exists and is not a zombie. */
function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .startsWith('Z');
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'homebed-exit-hooks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Runs a script that starts something and then calls process.exit() without stopping it, as vitest does
 * on Ctrl-C; returns what the script printed.
 */
async function runAbandoningScript(name: string, source: string): Promise<string> {
  // .mts: the temp folder has no package.json saying "type": "module", and the scripts use top-level await.
  const script = join(dir, `${name}.mts`);
  await writeFile(script, source);
  const runner = startChild(name, process.execPath, [TSX_BIN, script], { cwd: REPO_ROOT });
  try {
    await waitForLine(runner, /^done$/, 30_000);
    expect(await runner.exited).toBe(0);
    return runner.output();
  } finally {
    await runner.stop();
  }
}

describe('exit hooks', () => {
  it('kill the process groups of children that were never stopped', async () => {
    const output = await runAbandoningScript(
      'abandon-child',
      `import { startChild, waitForLine } from ${JSON.stringify(join(REPO_ROOT, 'tools/child-processes.ts'))};
const child = startChild('sleeper', 'sh', ['-c', 'sleep 300 & echo "grandchild $!"; sleep 300']);
const match = await waitForLine(child, /grandchild (\\d+)/, 5000);
console.log('pids', child.pid, match[1]);
console.log('done');
process.exit(0);
`,
    );
    const [, leader, grandchild] = /pids (\d+) (\d+)/.exec(output) ?? [];
    expect(await waitUntil(() => !processRunning(Number(leader)), 2000)).toBe(true);
    expect(await waitUntil(() => !processRunning(Number(grandchild)), 2000)).toBe(true);
  });

  it('kill a private influxd that was never stopped and remove its folder', async () => {
    const influxDir = join(dir, 'influxd');
    const output = await runAbandoningScript(
      'abandon-influxd',
      `import { startPrivateInfluxd } from ${JSON.stringify(join(REPO_ROOT, 'tools/influxd.ts'))};
const influxd = await startPrivateInfluxd({ dir: ${JSON.stringify(influxDir)} });
console.log('pid', influxd.pid);
console.log('done');
process.exit(0);
`,
    );
    const pid = Number(/pid (\d+)/.exec(output)?.[1]);
    expect(pid).toBeGreaterThan(1);
    expect(await waitUntil(() => !processRunning(pid), 5000)).toBe(true);
    expect(existsSync(influxDir)).toBe(false);
  });
});
