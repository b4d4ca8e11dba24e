import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { CLOUD_ENV_PREFIX, cloudConfigSchema } from '../../../cloud/config/schema.js';
import { applyEnvOverrides, validateConfig } from '../../../common/config/load.js';
import { ConfigError } from '../../../common/errors.js';
import { SIM_ENV_PREFIX, simConfigSchema } from '../../../firmware-sim/config.js';
import { GATEWAY_ENV_PREFIX } from '../../../gateway/config/load.js';
import { gatewayConfigSchema } from '../../../gateway/config/schema.js';
import { REPO_ROOT } from '../../../tools/child-processes.js';

/**
 * Shared by the deploy tests (compose.test.ts, systemd.test.ts): reading the repository's deployment
 * files, and turning a config file plus environment into a program's configuration exactly as the
 * programs do (common/config/load.ts).
 */

export { REPO_ROOT };

export function repoPath(relative: string): string {
  return join(REPO_ROOT, relative);
}

export function readRepoFile(relative: string): string {
  return readFileSync(repoPath(relative), 'utf8');
}

export function repoFileExists(relative: string): boolean {
  return existsSync(repoPath(relative));
}

/** package.json's `bin`: command name → script path (e.g. `homebed-gateway` → `dist/gateway/cli.js`). */
export function packageBins(): Record<string, string> {
  return (JSON.parse(readRepoFile('package.json')) as { bin: Record<string, string> }).bin;
}

export function packageVersion(): string {
  return (JSON.parse(readRepoFile('package.json')) as { version: string }).version;
}

/** The programs, by bin name: their schema and environment prefix. */
export const PROGRAMS = {
  'homebed-gateway': { schema: gatewayConfigSchema, envPrefix: GATEWAY_ENV_PREFIX },
  'homebed-cloud': { schema: cloudConfigSchema, envPrefix: CLOUD_ENV_PREFIX },
  'homebed-sim': { schema: simConfigSchema, envPrefix: SIM_ENV_PREFIX },
} as const;
export type ProgramName = keyof typeof PROGRAMS;
export const PROGRAM_NAMES = Object.keys(PROGRAMS) as ProgramName[];

export function isProgramName(name: string): name is ProgramName {
  return Object.hasOwn(PROGRAMS, name);
}

/** The same words load.ts keeps out of error messages: these keys hold secrets. */
export const SECRET_KEY = /secret|password|token/i;

/**
 * A `KEY=value` file (.env.example, the systemd EnvironmentFile examples): `values` of the assignments,
 * `commented` the names of assignments commented out (`# KEY=value`: documented, optional).
 */
export function parseEnvFile(text: string): { values: Record<string, string>; commented: Set<string> } {
  const values: Record<string, string> = {};
  const commented = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const disabled = /^#\s*([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
    if (disabled) {
      commented.add(disabled[1]!);
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`not KEY=value: ${JSON.stringify(raw)}`);
    values[match[1]!] = match[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return { values, commented };
}

/**
 * Keys of `input` (a config file with overrides applied) that are not in `output` (what the schema
 * made of it): zod objects drop keys they do not know, so a misspelt or renamed key would otherwise
 * pass unnoticed. Returns dotted paths.
 */
export function droppedKeys(input: unknown, output: unknown, path = ''): string[] {
  if (Array.isArray(input)) {
    if (!Array.isArray(output)) return [];
    return input.flatMap((item, i) => droppedKeys(item, output[i], `${path}[${i}]`));
  }
  if (input === null || typeof input !== 'object') return [];
  const out = output !== null && typeof output === 'object' ? (output as Record<string, unknown>) : {};
  return Object.entries(input as Record<string, unknown>).flatMap(([key, value]) => {
    const here = path ? `${path}.${key}` : key;
    return Object.hasOwn(out, key) ? droppedKeys(value, out[key], here) : [here];
  });
}

export type ResolvedConfig =
  | { ok: true; config: Record<string, unknown>; problems: [] }
  | { ok: false; config: undefined; problems: string[] };

/**
 * Load `file` (repo-relative YAML) with `env` applied the way the program does, validate it with the
 * program's schema, and list every problem: schema errors and keys the schema ignored.
 */
export function resolveProgramConfig(
  program: ProgramName,
  file: string,
  env: Record<string, string>,
): ResolvedConfig {
  const { schema, envPrefix } = PROGRAMS[program];
  let parsed: unknown;
  try {
    parsed = YAML.parse(readRepoFile(file)) ?? {};
  } catch (err) {
    return { ok: false, config: undefined, problems: [`${file}: ${(err as Error).message}`] };
  }
  const input = applyEnvOverrides(parsed, env, envPrefix);
  let config: Record<string, unknown>;
  try {
    config = validateConfig(schema as z.ZodType, input, file) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof ConfigError) {
      return { ok: false, config: undefined, problems: err.problems.map((p) => `${file}: ${p}`) };
    }
    throw err;
  }
  const dropped = droppedKeys(input, config);
  if (dropped.length) {
    return {
      ok: false,
      config: undefined,
      problems: dropped.map((k) => `${file}: ${k}: not a key of ${program}'s configuration`),
    };
  }
  return { ok: true, config, problems: [] };
}

/** A value at a dotted path of a resolved config (`mqtt.external.url`), or undefined. */
export function at(config: unknown, dotted: string): unknown {
  let cur: unknown = config;
  for (const key of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Host name of a URL (`mqtt://mosquitto:1883` → `mosquitto`), or undefined when it is not one. */
export function urlHost(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return new URL(value).hostname || undefined;
  } catch {
    return undefined;
  }
}
