import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { AlarmMessage } from '../../contract/index.js';
import { REPO_ROOT } from '../../tools/child-processes.js';
import { processesMentioning } from '../support/processes.js';
import { loginOverHttp, waitFor } from '../support/relay.js';

const run = promisify(execFile);

/**
 * `npm run demo` exactly as a newcomer runs it (through npm and the
 * bootstrap), in a private var dir: it prints the console URL, the printed
 * press command makes an alarm appear, and Ctrl-C (SIGINT to the whole
 * foreground process group, as a terminal sends it) leaves nothing behind.
 */
describe('npm run demo', () => {
  const varDir = mkdtempSync(join(tmpdir(), 'homebed-demo-'));
  let demo: ChildProcess | null = null;
  let output = '';

  afterAll(() => {
    try {
      if (demo?.pid) process.kill(-demo.pid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
    rmSync(varDir, { recursive: true, force: true });
  });

  it('runs, answers the printed press command, and stops cleanly on Ctrl-C', {
    timeout: 240_000,
  }, async () => {
    demo = spawn('npm', ['run', 'demo', '--', '--var-dir', varDir, '--quiet'], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout?.on('data', (b: Buffer) => (output += b.toString()));
    demo.stderr?.on('data', (b: Buffer) => (output += b.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      demo?.once('exit', (code, signal) => resolve({ code, signal })),
    );

    const consoleUrl = await waitFor(
      () => /console:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1],
      90_000,
      `console URL in:\n${output}`,
    );
    const press = /press SOS:\s+npm run sim -- (.+)/.exec(output)?.[1];
    expect(press).toBeTruthy();
    const page = await fetch(consoleUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('家床守护');

    const args = press!.trim().split(/\s+/);
    const pressed = await run(
      process.execPath,
      [join(REPO_ROOT, 'node_modules/.bin/tsx'), 'firmware-sim/cli.ts', ...args],
      { cwd: REPO_ROOT },
    );
    expect(pressed.stdout).toContain('pressed sos');
    // The demo prints one login per role; staff answers alarms.
    const staff = /\bstaff \/ (\S+)/.exec(output)?.[1];
    expect(staff, `staff login in:\n${output}`).toBeTruthy();
    const api = await loginOverHttp(consoleUrl, 'staff', staff!);
    expect((await fetch(`${consoleUrl}/api/alarms`)).status).toBe(401);
    const alarm = await waitFor(
      async () =>
        (await api.get<{ alarms: AlarmMessage[] }>('/api/alarms')).body.alarms.find(
          (a) => a.type === 'sos_button',
        ),
      10_000,
      'alarm',
    );
    expect(alarm.gatewayId).toBe('gw-demo-001');

    // Everything the demo started mentions the var dir (config env or paths): processes exist now…
    expect(processesMentioning(varDir).length).toBeGreaterThanOrEqual(4);
    process.kill(-demo.pid!, 'SIGINT');
    // npm itself dies of the SIGINT (as in a terminal); the demo under it shuts everything down and says so.
    const end = await exited;
    expect(end.code === 0 || end.signal === 'SIGINT').toBe(true);
    await waitFor(
      () => output.includes('nothing left running'),
      30_000,
      'the demo to report a clean stop',
    ).catch((err: Error) => {
      throw new Error(`${err.message}; demo output:\n${output.slice(-4000)}`);
    });
    // …and none after Ctrl-C.
    expect(processesMentioning(varDir)).toEqual([]);
  });
});
