import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ManagedChild, REPO_ROOT, startChild, waitForLine } from '../../../tools/child-processes.js';

/**
 * Runs the real tools/bootstrap.mjs in a throw-away repository: a package without dependencies (so
 * `npm ci` works offline in a second) and a stub in place of vitest that reports the signals it gets.
 */
let repo: string;
const lockfile = (): string => join(repo, 'package-lock.json');
const stampFile = (): string => join(repo, 'node_modules', '.homebed-lockfile.sha256');

const STUB_VITEST = `const { spawn } = require('node:child_process');
const args = process.argv.slice(2);
console.log('stub args ' + JSON.stringify(args));
if (args.includes('--exit-7')) process.exit(7);
// Left running on purpose: bootstrap must clean up what its child leaves in its process group.
const grandchild = spawn('sleep', ['300'], { stdio: 'ignore' });
console.log('grandchild ' + grandchild.pid);
let count = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    count += 1;
    console.log('got ' + signal + ' ' + count);
    setTimeout(() => process.exit(42), 300);
  });
}
console.log('ready');
setInterval(() => {}, 1000);
`;

function installStub(): void {
  mkdirSync(join(repo, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(join(repo, 'node_modules', '.bin', 'vitest'), STUB_VITEST);
}

const children: ManagedChild[] = [];
function bootstrap(...args: string[]): ManagedChild {
  const child = startChild('bootstrap', process.execPath, [join(repo, 'tools', 'bootstrap.mjs'), ...args], {
    cwd: repo,
    env: {
      ...process.env,
      // Hermetic npm: no registry, no audit, no update check.
      npm_config_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    },
  });
  children.push(child);
  return child;
}

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

beforeAll(async () => {
  repo = await mkdtemp(join(tmpdir(), 'homebed-bootstrap-'));
  mkdirSync(join(repo, 'tools'));
  copyFileSync(join(REPO_ROOT, 'tools', 'bootstrap.mjs'), join(repo, 'tools', 'bootstrap.mjs'));
  writeFileSync(
    join(repo, 'package.json'),
    JSON.stringify({ name: 'fake-homebed', version: '1.0.0', private: true, engines: { node: '>=20' } }),
  );
  writeFileSync(
    lockfile(),
    `${JSON.stringify(
      {
        name: 'fake-homebed',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: { '': { name: 'fake-homebed', version: '1.0.0' } },
      },
      null,
      2,
    )}\n`,
  );
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.stop('SIGKILL', 0)));
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('tools/bootstrap.mjs (sequential: each test builds on the previous one)', () => {
  it('runs npm ci when node_modules is missing and stamps the lockfile hash', async () => {
    const run = bootstrap('test');
    await run.exited;
    const output = run.output();
    expect(output).toContain('[homebed] running npm ci: node_modules is missing');
    const sha = createHash('sha256').update(readFileSync(lockfile())).digest('hex');
    expect(readFileSync(stampFile(), 'utf8').split('\n')[0]).toBe(sha);
  }, 60_000);

  it('skips npm ci when up to date, passes arguments to vitest run and exits with its code', async () => {
    installStub();
    const run = bootstrap('test', '--exit-7');
    expect(await run.exited).toBe(7);
    const output = run.output();
    expect(output).toContain('[homebed] node_modules is up to date');
    expect(output).not.toContain('npm ci:');
    expect(output).toContain('stub args ["run","--exit-7"]');
  });

  it('forwards SIGTERM, exits with the child code and leaves nothing of the child behind', async () => {
    const run = bootstrap('test');
    const [, grandchild] = await waitForLine(run, /^grandchild (\d+)$/, 10_000);
    await waitForLine(run, /^ready$/, 10_000);
    process.kill(run.pid, 'SIGTERM');
    expect(await run.exited).toBe(42);
    expect(run.output()).toContain('got SIGTERM 1');
    expect(processRunning(Number(grandchild))).toBe(false);
  });

  it('passes a Ctrl-C delivered twice (terminal + npm) on once', async () => {
    const run = bootstrap('test');
    await waitForLine(run, /^ready$/, 10_000);
    // The terminal signals the whole foreground group; npm then forwards the same signal again.
    process.kill(-run.pid, 'SIGINT');
    process.kill(run.pid, 'SIGINT');
    expect(await run.exited).toBe(42);
    expect(run.output()).toContain('got SIGINT 1');
    expect(run.output()).not.toContain('got SIGINT 2');
  });

  it('prints usage for an unknown command', async () => {
    const run = bootstrap('deploy');
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('[homebed] usage: node tools/bootstrap.mjs <demo|test|chaos|bench>');
  });

  it('reinstalls when package-lock.json changed', async () => {
    writeFileSync(lockfile(), `${readFileSync(lockfile(), 'utf8')}\n`);
    const run = bootstrap('test');
    await run.exited;
    expect(run.output()).toContain(
      '[homebed] running npm ci: package-lock.json changed since the last install',
    );
    // npm ci replaced node_modules, so the stub is gone; the new stamp matches the new lockfile.
    expect(existsSync(join(repo, 'node_modules', '.bin', 'vitest'))).toBe(false);
    const sha = createHash('sha256').update(readFileSync(lockfile())).digest('hex');
    expect(readFileSync(stampFile(), 'utf8').split('\n')[0]).toBe(sha);
  }, 60_000);
});
