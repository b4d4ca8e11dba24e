import type { Reading } from './reading.js';

/**
 * Where readings go. Implementations (InfluxDB 1.x now, 2.x later) share one
 * contract: `write` resolves when the points are durably in the database and
 * rejects with a `TelemetryWriteError` saying whether a retry can help.
 */
export interface TelemetrySink {
  /** Prepare the destination (create the database); safe to call repeatedly. */
  prepare(): Promise<void>;
  write(readings: readonly Reading[]): Promise<void>;
  close(): Promise<void>;
}

export interface TelemetryTags {
  gateway: string;
  bed: string;
}
