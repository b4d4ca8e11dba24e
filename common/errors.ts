/**
 * Errors that cross a boundary carry a stable code (for logs, metrics and
 * API responses) and say whether retrying the same operation can help.
 */
export class HomebedError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** A configuration file or override failed validation; never retriable. */
export class ConfigError extends HomebedError {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super('HB_CONFIG_INVALID', `invalid configuration in ${source}:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** An incoming payload (MQTT, serial, HTTP) did not match its schema. */
export class PayloadError extends HomebedError {
  constructor(message: string) {
    super('HB_PAYLOAD_INVALID', message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
