#!/usr/bin/env node
/**
 * Records the other platforms' optional packages in package-lock.json.
 *
 * Why: the npm registry this project is built against serves only this
 * platform's builds of packages such as @biomejs/cli-* and @rollup/rollup-*,
 * so `npm install` cannot read their manifests and leaves them out of the
 * lockfile — and npm 11's `npm ci` then refuses the lockfile ("Missing: … from
 * lock file"). An entry marked optional is all `npm ci` needs: on a platform
 * the package is not for, it is skipped. Run after changing dependencies:
 * `node tools/complete-lockfile.mjs`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const file = join(root, 'package-lock.json');
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, range] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] || packages[`${path}/${key}`]) continue;
    // These platform packages are pinned to the exact version of their parent.
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(range)) continue;
    packages[key] = { version: range, ...(entry.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(`package-lock.json: recorded ${added} optional packages of other platforms\n`);
