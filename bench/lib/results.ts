/**
 * The result file of one benchmark (`bench/results/<name>.json`) and the
 * table in docs/benchmarks.md rendered from all of them. Every figure stands
 * beside a reference measured in the same run on the same machine, because
 * absolute times on a shared 2-core machine move from run to run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/child-processes.js';
import type { MachineInfo } from './machine.js';

export const BENCHMARK_NAMES = ['latency', 'ingest', 'capacity', 'footprint', 'backfill'] as const;
export type BenchmarkName = (typeof BENCHMARK_NAMES)[number];

export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');
export const MARKDOWN_FILE = join(REPO_ROOT, 'docs', 'benchmarks.md');

/** One figure of ours beside its reference. */
export interface Comparison {
  /** What is measured, e.g. `alarm latency p99, button → SSE client`. */
  figure: string;
  unit: string;
  ours: number;
  /** floor: the least any system could do here; ceiling: the most; peer: another product doing the same job. */
  reference: { kind: 'floor' | 'ceiling' | 'peer'; label: string; value: number };
  /** Which way is better for this figure. */
  better: 'lower' | 'higher';
}

export interface BenchResult {
  benchmark: BenchmarkName;
  title: string;
  /** One sentence: what was done, for the table's heading. */
  method: string;
  startedAt: string;
  durationS: number;
  machine: MachineInfo;
  versions: Record<string, string>;
  parameters: Record<string, unknown>;
  /** Every figure measured, in the benchmark's own shape. */
  figures: Record<string, unknown>;
  comparisons: Comparison[];
  /** Caveats a reader needs (what the peer does differently, what was not measured). */
  notes: string[];
}

export function resultFile(name: BenchmarkName): string {
  return join(RESULTS_DIR, `${name}.json`);
}

export function writeResult(result: BenchResult, dir = RESULTS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${result.benchmark}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export function readResults(dir = RESULTS_DIR): Partial<Record<BenchmarkName, BenchResult>> {
  const results: Partial<Record<BenchmarkName, BenchResult>> = {};
  for (const name of BENCHMARK_NAMES) {
    const file = join(dir, `${name}.json`);
    if (existsSync(file)) results[name] = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  }
  return results;
}

/** ours / reference, and how to read it. */
export function ratio(c: Comparison): number {
  if (c.reference.value === 0) return Number.NaN;
  return c.ours / c.reference.value;
}

/** A number for a table: 3 significant figures, thousands kept whole. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatRatio(c: Comparison): string {
  const r = ratio(c);
  if (!Number.isFinite(r)) return '—';
  const better = c.better === 'lower' ? r <= 1 : r >= 1;
  // Within 2 % is the same: closer than run-to-run noise on a shared machine.
  const same = Math.abs(r - 1) < 0.02;
  const word =
    c.reference.kind === 'peer' ? (same ? 'same' : better ? 'better' : 'worse') : `of ${c.reference.kind}`;
  return c.reference.kind === 'peer' ? `${r.toFixed(2)}× (${word})` : `${r.toFixed(2)}× ${word}`;
}

const TITLES: Record<BenchmarkName, string> = {
  latency: 'Alarm latency',
  ingest: 'Telemetry ingest',
  capacity: 'Cloud capacity',
  footprint: 'Gateway footprint',
  backfill: 'Backfill',
};

function parameterLine(parameters: Record<string, unknown>): string {
  return Object.entries(parameters)
    .map(([k, v]) => `${k} = ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' · ');
}

/** The whole of docs/benchmarks.md. */
export function renderMarkdown(results: Partial<Record<BenchmarkName, BenchResult>>): string {
  const lines: string[] = [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (bench/run.ts) from bench/results/*.json; run it again rather than editing. -->',
    '',
    'Every figure stands beside a reference measured in the same run on the same machine: a **floor** (the',
    'least any system could do, e.g. one MQTT round trip), a **ceiling** (the most the database takes) or a',
    '**peer** (Node-RED doing the same job). Absolute times on a shared 2-core machine move from run to run;',
    'the ratios move much less. `npm run bench` runs all five (about 15 minutes); `npm run bench -- latency`',
    'runs one. Each JSON file in `bench/results/` has every figure, the parameters and the versions.',
    '',
  ];
  for (const name of BENCHMARK_NAMES) {
    const r = results[name];
    lines.push(`## ${TITLES[name]}`, '');
    if (!r) {
      lines.push(`Not run yet: \`npm run bench -- ${name}\`.`, '');
      continue;
    }
    lines.push(r.method, '');
    lines.push(
      `Measured ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC in ${formatNumber(r.durationS)} s on ` +
        `${r.machine.cores} × ${r.machine.cpuModel} (load ${r.machine.loadAverage1m} at start); ` +
        `${Object.entries(r.versions)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}.`,
      '',
    );
    lines.push(`Parameters: ${parameterLine(r.parameters)}.`, '');
    lines.push('| figure | homebed | reference | reference value | ratio |', '|---|---:|---|---:|---:|');
    for (const c of r.comparisons) {
      lines.push(
        `| ${c.figure} | ${formatNumber(c.ours)} ${c.unit} | ${c.reference.kind}: ${c.reference.label} | ` +
          `${formatNumber(c.reference.value)} ${c.unit} | ${formatRatio(c)} |`,
      );
    }
    lines.push('');
    for (const note of r.notes) lines.push(`- ${note}`);
    if (r.notes.length) lines.push('');
  }
  return lines.join('\n');
}

export function writeMarkdown(results = readResults(), file = MARKDOWN_FILE): void {
  writeFileSync(file, renderMarkdown(results));
}
