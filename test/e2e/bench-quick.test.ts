import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BENCHMARK_NAMES,
  type BenchResult,
  MARKDOWN_FILE,
  readResults,
  renderMarkdown,
} from '../../bench/lib/results.js';
import { REPO_ROOT, TSX_BIN } from '../../tools/child-processes.js';

const run = promisify(execFile);

/**
 * The benchmarks' code runs end to end in CI: every benchmark in its quick form (tiny parameters), writing
 * its result to a temp folder. Nothing here asserts a speed (figures from a loaded CI machine mean
 * nothing): it asserts that each benchmark measured what it claims, beside its reference, and recorded
 * the machine and versions. The committed figures come from `npm run bench` alone.
 */
describe('npm run bench -- --quick: every benchmark measures and writes its result', () => {
  const out = mkdtempSync(join(tmpdir(), 'homebed-bench-quick-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs all five and each result has finite figures beside a reference', async () => {
    const markdownBefore = readFileSync(MARKDOWN_FILE, 'utf8');
    const { stdout } = await run(
      process.execPath,
      [TSX_BIN, 'bench/run.ts', '--quick', '--out', out, '--seed', '7'],
      {
        cwd: REPO_ROOT,
        maxBuffer: 16 * 1024 * 1024,
      },
    ).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`bench --quick failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
    });
    expect(stdout).not.toContain('FAILED');
    const results = readResults(out);
    // One result file per benchmark, and none other.
    expect(Object.keys(results).sort()).toEqual([...BENCHMARK_NAMES].sort());
    for (const name of BENCHMARK_NAMES) {
      const result = results[name] as BenchResult;
      expect(result.benchmark).toBe(name);
      expect(result.machine.cores).toBeGreaterThan(0);
      expect(result.machine.cpuModel.length).toBeGreaterThan(0);
      expect(result.versions.node).toBe(process.version);
      expect(result.method.length).toBeGreaterThan(20);
      expect(result.comparisons.length, `${name} comparisons`).toBeGreaterThan(0);
      // Finite and not negative; a zero can be a real outcome on a loaded CI machine (a system that did not
      // keep up with the one quick step sustains 0), so only one figure per benchmark must be positive.
      for (const c of result.comparisons) {
        expect(Number.isFinite(c.ours) && c.ours >= 0, `${name}: ${c.figure} = ${c.ours}`).toBe(true);
        expect(
          Number.isFinite(c.reference.value) && c.reference.value >= 0,
          `${name}: ${c.reference.label}`,
        ).toBe(true);
        expect(['floor', 'ceiling', 'peer']).toContain(c.reference.kind);
      }
      expect(result.comparisons.some((c) => c.ours > 0 && c.reference.value > 0)).toBe(true);
      expect(Object.keys(result.figures).length).toBeGreaterThan(0);
    }
    // The quick figures never replace the committed ones.
    expect(readFileSync(MARKDOWN_FILE, 'utf8')).toBe(markdownBefore);
    const markdown = renderMarkdown(results);
    expect(markdown).not.toContain('Not run yet');
  }, 600_000);
});
