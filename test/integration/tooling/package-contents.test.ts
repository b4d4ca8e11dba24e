import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../tools/child-processes.js';

const run = promisify(execFile);

interface PackageJson {
  bin: Record<string, string>;
  files: string[];
  scripts: Record<string, string>;
}

/**
 * Installed as a package, the gateway's installer commands and the other CLIs are binaries: the package
 * must carry the build, the console's files and the bundled scenarios, and nothing of the repository's
 * tests and tools. `npm pack --dry-run` lists what npm would put in the tarball (without building).
 */
describe('the npm package', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;

  it('builds before packing, and each binary is a compiled CLI whose source starts with a shebang', () => {
    expect(pkg.scripts.prepack).toBe('npm run build');
    expect(Object.keys(pkg.bin).sort()).toEqual(['homebed-cloud', 'homebed-gateway', 'homebed-sim']);
    for (const target of Object.values(pkg.bin)) {
      expect(target).toMatch(/^dist\/.+\/cli\.js$/);
      expect(pkg.files.some((f) => f.endsWith('/') && target.startsWith(f))).toBe(true);
      const source = join(REPO_ROOT, target.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
      expect(readFileSync(source, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    }
  });

  it('carries the console, the scenarios, the deployment files and docs, and leaves tests and tools out', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: REPO_ROOT,
    });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path) ?? [];
    for (const path of [
      'cloud/web/index.html',
      'cloud/web/app.js',
      'firmware-sim/scenarios/normal-night.yaml',
      'deploy/systemd/homebed-gateway.service',
      'docs/install-home.md',
      'package.json',
      'README.md',
    ]) {
      expect(files, path).toContain(path);
    }
    for (const prefix of ['test/', 'bench/', 'tools/', 'node_modules/', 'var/', '.ci/']) {
      expect(
        files.filter((f) => f.startsWith(prefix)),
        prefix,
      ).toEqual([]);
    }
    // Sources stay out: a package runs its build.
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });
});
