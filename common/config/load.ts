import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

/** Keys whose values are never echoed back in an error message. */
const SECRET_KEY = /secret|password|token/i;

export interface LoadConfigOptions {
  /** Path to a `.yaml`, `.yml` or `.json` file; omitted = defaults + env only. */
  file?: string;
  /** Environment to read overrides from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Override prefix, e.g. `HOMEBED_GATEWAY`. A variable
   * `HOMEBED_GATEWAY__CLOUD__HEARTBEAT_INTERVAL_S=15` sets
   * `cloud.heartbeatIntervalS`; numeric segments index arrays
   * (`HOMEBED_GATEWAY__SERIAL_PORTS__0__PATH`). Values are parsed as JSON
   * when they can be (numbers, booleans, lists), else kept as strings.
   */
  envPrefix: string;
}

/**
 * Load, merge and validate a configuration. Every problem is reported at
 * once, one per line, as `path: message (got value)`.
 */
export function loadConfig<S extends z.ZodType>(schema: S, options: LoadConfigOptions): z.output<S> {
  const source = options.file ? resolve(options.file) : '(defaults)';
  const raw = options.file ? readConfigFile(source) : {};
  const overridden = applyEnvOverrides(raw, options.env ?? process.env, options.envPrefix);
  return validateConfig(schema, overridden, source);
}

/** Validate an already-parsed object (used by tests and by `loadConfig`). */
export function validateConfig<S extends z.ZodType>(schema: S, input: unknown, source: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => formatIssue(issue.path, issue.message, input));
  throw new ConfigError(source, problems);
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [`(file): cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  try {
    const ext = extname(path).toLowerCase();
    const parsed: unknown = ext === '.json' ? JSON.parse(text) : YAML.parse(text);
    return parsed ?? {};
  } catch (err) {
    throw new ConfigError(path, [
      `(file): not valid ${extname(path).slice(1) || 'YAML'}: ${(err as Error).message}`,
    ]);
  }
}

function formatIssue(path: readonly PropertyKey[], message: string, input: unknown): string {
  const dotted = path.length ? path.map(String).join('.') : '(root)';
  const secret = path.some((p) => typeof p === 'string' && SECRET_KEY.test(p));
  const got = secret ? '[redacted]' : describeValue(valueAt(input, path));
  return `${dotted}: ${message} (got ${got})`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** UPPER_SNAKE → camelCase: `HEARTBEAT_INTERVAL_S` → `heartbeatIntervalS`. */
export function envSegmentToKey(segment: string): string {
  const lower = segment.toLowerCase();
  return lower.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

export function applyEnvOverrides(base: unknown, env: NodeJS.ProcessEnv, prefix: string): unknown {
  const root: Record<string, unknown> =
    base && typeof base === 'object' ? structuredClone(base as Record<string, unknown>) : {};
  const marker = `${prefix}__`;
  const names = Object.keys(env)
    .filter((n) => n.startsWith(marker))
    .sort();
  for (const name of names) {
    const value = env[name];
    if (value === undefined) continue;
    const segments = name.slice(marker.length).split('__').filter(Boolean);
    if (!segments.length) continue;
    setPath(
      root,
      segments.map((s) => (/^\d+$/.test(s) ? Number(s) : envSegmentToKey(s))),
      parseEnvValue(value),
    );
  }
  return root;
}

function parseEnvValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function setPath(root: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let cur: Record<string | number, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const nextIsIndex = typeof path[i + 1] === 'number';
    const existing = cur[key];
    if (existing === null || typeof existing !== 'object') {
      cur[key] = nextIsIndex ? [] : {};
    }
    cur = cur[key] as Record<string | number, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}
