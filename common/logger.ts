import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** pino level; default `info`. */
  level?: string;
  /** Human-readable colourised lines instead of JSON (the demo uses this). */
  pretty?: boolean;
  /** Program name put on every line (`gateway`, `cloud`, `sim`). */
  name?: string;
  /** Where to write; default stdout. Tests pass a stream to capture lines. */
  destination?: NodeJS.WritableStream;
}

/**
 * Paths that must never reach a log line: secrets, passwords, tokens and
 * the personal data of residents (names, phone numbers).
 */
export const REDACTED_PATHS = [
  'secret',
  'password',
  'token',
  'authorization',
  '*.secret',
  '*.password',
  '*.token',
  '*.authorization',
  '*.*.secret',
  '*.*.password',
  '*.*.token',
  'phone',
  '*.phone',
  'residentName',
  '*.residentName',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const base = {
    level: options.level ?? 'info',
    name: options.name,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (options.pretty) {
    // Synchronous pretty stream (no worker thread) so lines are not lost
    // when the demo stops a child with a signal.
    const pretty = pinoPretty({
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      singleLine: true,
      destination: options.destination ?? 1,
      sync: true,
    });
    return pino(base, pretty);
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}

/** A logger that discards everything; for unit tests of components. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
