/** What bench/run.ts hands each benchmark, and how a benchmark turns its figures into a result. */
import { baseVersions, describeMachine } from './machine.js';
import type { BenchmarkName, BenchResult } from './results.js';
import { round } from './stats.js';

export interface BenchContext {
  /** A fresh folder for this benchmark's data (removed afterwards unless --keep). */
  dir: string;
  /** Progress for the person watching (one line each). */
  say: (line: string) => void;
  /**
   * Shorter parameters for the smoke test (`test/integration/bench/*`): proves the code measures and writes
   * its file, with figures too few to quote. Never used for the committed results.
   */
  quick: boolean;
  /** Seed for whatever the benchmark randomises, recorded in its parameters. */
  seed: number;
  /** Print every program's log lines (`--verbose`). */
  verbose: boolean;
}

/** A benchmark: one of bench/<name>.ts, default-exported. */
export interface Benchmark {
  name: BenchmarkName;
  title: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/** Starts the clock and records the machine now; `finish` fills in the rest of the result. */
export function startResult(name: BenchmarkName, title: string) {
  const startedAt = new Date();
  const t0 = performance.now();
  const machine = describeMachine();
  return {
    finish(
      rest: Omit<BenchResult, 'benchmark' | 'title' | 'startedAt' | 'durationS' | 'machine' | 'versions'> & {
        versions: Record<string, string>;
      },
    ): BenchResult {
      return {
        benchmark: name,
        title,
        method: rest.method,
        startedAt: startedAt.toISOString(),
        durationS: round((performance.now() - t0) / 1000, 1),
        machine,
        versions: { ...baseVersions(), ...rest.versions },
        parameters: rest.parameters,
        figures: rest.figures,
        comparisons: rest.comparisons,
        notes: rest.notes,
      };
    },
  };
}
