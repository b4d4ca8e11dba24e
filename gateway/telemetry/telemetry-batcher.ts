import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import { HomebedError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { Reading } from './reading.js';
import type { TelemetrySink } from './telemetry-sink.js';

export interface TelemetryBatcherOptions {
  batchSize: number;
  flushIntervalMs: number;
  /** Memory bound while the sink is down; the oldest readings are dropped (and counted) beyond it. */
  maxBufferedPoints: number;
}

/**
 * Batches readings by size and time and hands them to a sink. While the sink
 * fails with a retriable error the readings wait here (bounded, original
 * timestamps kept); a permanent rejection drops that batch with a count and
 * a log line, so one bad point never blocks the rest.
 *
 * (A durable SQLite spool replaces the in-memory buffer in the delivery work.)
 */
export class TelemetryBatcher {
  private buffer: Reading[] = [];
  private timer: TimerHandle | null = null;
  private flushing: Promise<void> | null = null;
  private prepared = false;
  private failingSince: number | null = null;

  constructor(
    private readonly sink: TelemetrySink,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
    private readonly options: TelemetryBatcherOptions,
  ) {}

  start(): void {
    this.timer = this.clock.setInterval(() => void this.flush(), this.options.flushIntervalMs);
  }

  /** Stop the timer and try once to write what is buffered. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.flushing;
    if (this.buffer.length) await this.flush();
    await this.sink.close();
  }

  add(reading: Reading): void {
    this.buffer.push(reading);
    const excess = this.buffer.length - this.options.maxBufferedPoints;
    if (excess > 0) {
      this.buffer.splice(0, excess);
      this.counters.inc('readings_dropped', { reason: 'buffer_full' }, excess);
    }
    if (this.buffer.length >= this.options.batchSize && !this.flushing) void this.flush();
  }

  get depth(): number {
    return this.buffer.length;
  }

  /** Write buffered readings batch by batch until empty or the sink fails. */
  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.drain().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.buffer.length) {
      if (!this.prepared) {
        try {
          await this.sink.prepare();
          this.prepared = true;
        } catch (err) {
          this.noteFailure(err);
          return;
        }
      }
      const batch = this.buffer.slice(0, this.options.batchSize);
      try {
        await this.sink.write(batch);
      } catch (err) {
        if (err instanceof HomebedError && !err.retriable) {
          // The batch can never be written as it is; keep the rest flowing.
          this.buffer.splice(0, batch.length);
          this.counters.inc('readings_rejected', undefined, batch.length);
          this.logger.error({ err: err.message, first: batch[0] }, 'InfluxDB rejected a batch; dropped');
          continue;
        }
        this.noteFailure(err);
        return;
      }
      this.buffer.splice(0, batch.length);
      this.counters.inc('readings_written', undefined, batch.length);
      if (this.failingSince !== null) {
        this.logger.info({ downForMs: this.clock.now() - this.failingSince }, 'InfluxDB writes recovered');
        this.failingSince = null;
      }
    }
  }

  private noteFailure(err: unknown): void {
    this.counters.inc('telemetry_write_failures');
    if (this.failingSince === null) {
      this.failingSince = this.clock.now();
      this.logger.warn(
        { err: (err as Error).message, buffered: this.buffer.length },
        'InfluxDB unavailable; buffering',
      );
    }
  }
}
