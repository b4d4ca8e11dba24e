/**
 * The product's programs as a deployment runs them: compiled JavaScript
 * (`npm run build` → dist/) started with plain `node`, each in its own process
 * group, so that what is measured is the program and not a TypeScript loader.
 */
import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ManagedChild, REPO_ROOT, startChild, waitForLine } from '../../tools/child-processes.js';

const run = promisify(execFile);

export const DIST = join(REPO_ROOT, 'dist');

let built: Promise<void> | null = null;

/** Compile the product once per bench run (about 10 s). */
export function buildProduct(): Promise<void> {
  built ??= run(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: REPO_ROOT,
    },
  ).then(() => {
    if (!existsSync(join(DIST, 'gateway', 'cli.js')))
      throw new Error('npm run build did not produce dist/gateway/cli.js');
  });
  return built;
}

export type ProgramName = 'gateway' | 'cloud' | 'sim';

const ENTRY: Record<ProgramName, string> = {
  gateway: join(DIST, 'gateway', 'cli.js'),
  cloud: join(DIST, 'cloud', 'cli.js'),
  sim: join(DIST, 'firmware-sim', 'cli.js'),
};

export interface StartProgramOptions {
  /** Label in logs; default the program name. */
  label?: string;
  env?: Record<string, string>;
  /** Every line the program prints (for --verbose). */
  onLine?: (line: string) => void;
  /** Wait for this line before resolving (default by program: `gateway started`, `cloud relay started`, `simulator ready`). */
  readyLine?: RegExp | null;
  readyTimeoutMs?: number;
  /** Node flags before the script, e.g. `--cpu-prof` (not all are allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
}

const READY: Record<ProgramName, RegExp> = {
  gateway: /gateway started/,
  cloud: /cloud relay started/,
  sim: /simulator ready/,
};

/** Start `node dist/<program>/cli.js <args>` and wait until it says it is ready. */
export async function startProgram(
  program: ProgramName,
  args: string[],
  options: StartProgramOptions = {},
): Promise<ManagedChild> {
  await buildProduct();
  if (!statSync(ENTRY[program]).isFile()) throw new Error(`${ENTRY[program]} missing`);
  const child = startChild(
    options.label ?? program,
    process.execPath,
    [...(options.nodeArgs ?? []), ENTRY[program], ...args],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      onLine: options.onLine,
    },
  );
  const ready = options.readyLine === undefined ? READY[program] : options.readyLine;
  if (ready) await waitForLine(child, ready, options.readyTimeoutMs ?? 30_000);
  return child;
}

/** Run a program's one-shot command (e.g. `cloud gateway add …`) to completion; rejects on a non-zero exit. */
export async function runCommand(
  program: ProgramName,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  await buildProduct();
  const { stdout } = await run(process.execPath, [ENTRY[program], ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
  return stdout;
}
