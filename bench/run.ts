/**
 * `npm run bench [-- <name>...] [--keep] [--verbose] [--seed N]`: runs the
 * benchmarks one after another (never two at once: they would measure each
 * other), writes bench/results/<name>.json for each and renders
 * docs/benchmarks.md from every result file there.
 *
 * `--quick` shortens every benchmark for the smoke test; its results go to
 * `--out <dir>` (never over the committed ones).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Benchmark } from './lib/context.js';
import { buildProduct } from './lib/programs.js';
import {
  BENCHMARK_NAMES,
  type BenchmarkName,
  MARKDOWN_FILE,
  RESULTS_DIR,
  readResults,
  writeMarkdown,
  writeResult,
} from './lib/results.js';

const LOADERS: Record<BenchmarkName, () => Promise<{ default: Benchmark }>> = {
  latency: () => import('./latency.js'),
  ingest: () => import('./ingest.js'),
  capacity: () => import('./capacity.js'),
  footprint: () => import('./footprint.js'),
  backfill: () => import('./backfill.js'),
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    seed: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

const say = (line: string) => process.stdout.write(`${line}\n`);

if (values.help) {
  say(
    'usage: npm run bench -- [latency|ingest|capacity|footprint|backfill]... [--verbose] [--keep] [--seed N]',
  );
  process.exit(0);
}
const unknown = positionals.filter((p) => !(BENCHMARK_NAMES as readonly string[]).includes(p));
if (unknown.length) {
  say(`unknown benchmark ${unknown.join(', ')}; benchmarks: ${BENCHMARK_NAMES.join(', ')}`);
  process.exit(2);
}
if (values.quick && !values.out) {
  say('--quick needs --out <dir>: quick figures must not replace the committed results');
  process.exit(2);
}
const names = positionals.length ? (positionals as BenchmarkName[]) : [...BENCHMARK_NAMES];
const outDir = values.out ?? RESULTS_DIR;
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);

say(`bench: ${names.join(', ')}${values.quick ? ' (quick)' : ''}, seed ${seed}`);
say('building the product (npm run build)…');
await buildProduct();
// Made after the build, so a failed build leaves nothing behind.
const root = mkdtempSync(join(tmpdir(), 'homebed-bench-'));
const started = performance.now();
let failed = 0;
for (const name of names) {
  const bench = (await LOADERS[name]()).default;
  say(`\n## ${name}: ${bench.title}`);
  const t0 = performance.now();
  try {
    const result = await bench.run({
      dir: join(root, name),
      say: (line) => say(`  ${line}`),
      quick: values.quick,
      seed,
      verbose: values.verbose,
    });
    const file = writeResult(result, outDir);
    say(`  wrote ${file} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    for (const c of result.comparisons) {
      say(
        `  ${c.figure}: ${c.ours} ${c.unit} vs ${c.reference.kind} ${c.reference.label} ${c.reference.value} ${c.unit}`,
      );
    }
  } catch (error) {
    failed++;
    say(`  FAILED: ${(error as Error).stack ?? error}`);
  }
}
if (!values.out) {
  writeMarkdown(readResults());
  say(`\nwrote ${MARKDOWN_FILE}`);
}
say(
  `bench done in ${((performance.now() - started) / 1000).toFixed(0)} s${failed ? `, ${failed} failed` : ''}`,
);
if (!values.keep) rmSync(root, { recursive: true, force: true });
else say(`kept ${root}`);
process.exit(failed ? 1 : 0);
