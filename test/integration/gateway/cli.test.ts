import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, TSX_BIN } from '../../../tools/child-processes.js';

const run = promisify(execFile);

async function cli(program: 'gateway' | 'cloud', args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSX_BIN, `${program}/cli.ts`, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('program CLIs', () => {
  it('the gateway refuses an invalid config at start-up, listing every problem, and exits 2', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'homebed-cli-')), 'gw.yaml');
    writeFileSync(file, 'gatewayId: gw-1\ncloud:\n  secret: x\ninflux:\n  batchSize: 0\n');
    const result = await cli('gateway', ['run', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`invalid configuration in ${file}:`);
    expect(result.stderr).toContain(
      'bedId: Invalid input: expected string, received undefined (got nothing)',
    );
    expect(result.stderr).toContain('cloud.secret: must be at least 8 characters (got [redacted])');
    expect(result.stderr).toContain('influx.batchSize: Too small: expected number to be >=1 (got 0)');
  });

  it('the gateway config check hides the secret', async () => {
    const result = await cli('gateway', [
      'check-config',
      '--config',
      join(REPO_ROOT, 'config/demo/gateway.yaml'),
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).cloud.secret).toBe('[redacted]');
    expect(result.stdout).not.toContain('demo-secret-not-for-production');
  });

  it('the cloud provisions a gateway, shows its secret once, and lists it; --help lists the commands', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'homebed-cloud-cli-'));
    const added = await cli('cloud', ['gateway', 'add', 'gw-cli-1'], { HOMEBED_CLOUD__DATA_DIR: dataDir });
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/^gateway gw-cli-1 provisioned\nsecret: [A-Za-z0-9_-]{43}\n/);
    const again = await cli('cloud', ['gateway', 'add', 'gw-cli-1'], { HOMEBED_CLOUD__DATA_DIR: dataDir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('HB_GATEWAY_EXISTS');
    const listed = await cli('cloud', ['gateway', 'list'], { HOMEBED_CLOUD__DATA_DIR: dataDir });
    expect(listed.stdout).toBe('gw-cli-1\tnever connected\t-\n');
    const help = await cli('cloud', ['--help']);
    expect(help.stdout).toContain('gateway add <id>');
    expect(help.stdout).toContain('gateway list');
  });
});
