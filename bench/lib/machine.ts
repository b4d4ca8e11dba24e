/** What a result was measured on: the machine and the versions of every program in the run. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tools/child-processes.js';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  /** Load average over the last minute when the benchmark started (another job on the machine shows here). */
  loadAverage1m: number;
}

export function describeMachine(): MachineInfo {
  const list = cpus();
  let load = 0;
  try {
    load = Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    // Not Linux: leave 0.
  }
  return {
    cores: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    loadAverage1m: load,
  };
}

/** First line a program prints for its version flag, or `unknown` when it cannot be run. */
export function programVersion(command: string, args: string[], pattern = /(\d+\.\d+(\.\d+)?)/): string {
  try {
    const out = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return pattern.exec(out)?.[1] ?? out.split('\n')[0]?.trim() ?? 'unknown';
  } catch (error) {
    // mosquitto -h exits 3 after printing its version.
    const out = `${(error as { stdout?: string }).stdout ?? ''}`;
    return pattern.exec(out)?.[1] ?? 'unknown';
  }
}

/** Version of an installed npm package, read from its package.json under `nodeModules`. */
export function packageVersion(name: string, nodeModules = join(REPO_ROOT, 'node_modules')): string {
  try {
    return (JSON.parse(readFileSync(join(nodeModules, name, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'not installed';
  }
}

/** Versions every result records: Node and this checkout. */
export function baseVersions(): Record<string, string> {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim();
  } catch {
    // Not a git checkout (an unpacked release): leave unknown.
  }
  return { node: process.version, homebed: commit };
}
