import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import { HomebedError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { Reading } from './reading.js';
import type { TelemetrySink } from './telemetry-sink.js';
import type { TelemetrySpool } from './telemetry-spool.js';

export interface TelemetryBatcherOptions {
  batchSize: number;
  flushIntervalMs: number;
  /** Readings held in memory at most; beyond it they go to the spool (or, without one, the oldest are dropped). */
  maxBufferedPoints: number;
  /** Longest wait between write attempts while InfluxDB is failing (the wait doubles from the flush interval). */
  retryMaxMs?: number;
}

/**
 * Batches readings by size and time and hands them to a sink. When a write
 * fails with a retriable error the batch goes to the durable spool (SQLite,
 * bounded, oldest dropped and counted) and later writes back off; when the
 * sink answers again, every flush writes one live batch and then one spool
 * batch, so the backlog drains in order with its original timestamps and
 * live data is never starved. A batch the database rejects for good is
 * quarantined with the error, counted, and never retried.
 */
export class TelemetryBatcher {
  private buffer: Reading[] = [];
  private timer: TimerHandle | null = null;
  private flushing: Promise<void> | null = null;
  /** Readings of the batch being written (out of the buffer until the write ends). */
  private inFlight = 0;
  private prepared = false;
  private failingSince: number | null = null;
  private failures = 0;
  private nextAttemptAtMs = 0;
  private droppedTotal = 0;
  private lastWriteAtMs: number | null = null;
  private lastDropLogAtMs: number | null = null;

  constructor(
    private readonly sink: TelemetrySink,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
    private readonly options: TelemetryBatcherOptions,
    private readonly spool: TelemetrySpool | null = null,
  ) {}

  start(): void {
    this.timer = this.clock.setInterval(() => void this.flush(), this.options.flushIntervalMs);
  }

  /** Stop the timer and try once more to write; what cannot be written is kept in the spool. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    await this.flushing;
    this.nextAttemptAtMs = 0;
    if (this.buffer.length) await this.flush();
    this.toSpool();
    await this.sink.close();
  }

  add(reading: Reading): void {
    this.buffer.push(reading);
    const excess = this.buffer.length - this.options.maxBufferedPoints;
    if (excess > 0) {
      if (this.spool) {
        // Spill a whole batch at a time: one spool transaction (one fsync) per batch, not per reading,
        // or an overloaded gateway spends itself on fsyncs and collapses (seen in bench/ingest).
        this.appendToSpool(this.buffer.splice(0, Math.max(excess, this.options.batchSize)));
      } else {
        this.buffer.splice(0, excess);
        this.counters.inc('readings_dropped', { reason: 'buffer_full' }, excess);
        this.noteDropped(excess);
      }
    }
    if (
      this.buffer.length >= this.options.batchSize &&
      !this.flushing &&
      this.clock.now() >= this.nextAttemptAtMs
    ) {
      void this.flush();
    }
  }

  /** Readings not yet in the database: in memory plus spooled. */
  get depth(): number {
    return this.buffer.length + this.inFlight + (this.spool?.depth ?? 0);
  }

  /** Readings dropped since start (spool or buffer full): reported in the heartbeat. */
  get dropped(): number {
    return this.droppedTotal;
  }

  get spoolDepth(): number {
    return this.spool?.depth ?? 0;
  }

  /** Readings waiting in memory for the next write. */
  get bufferedPoints(): number {
    return this.buffer.length + this.inFlight;
  }

  /** Whether InfluxDB is taking writes (`failing` from the first failure until a write succeeds again). */
  writeState(): {
    state: 'ok' | 'failing';
    failingSinceMs: number | null;
    consecutiveFailures: number;
    lastWriteAtMs: number | null;
  } {
    return {
      state: this.failingSince === null ? 'ok' : 'failing',
      failingSinceMs: this.failingSince,
      consecutiveFailures: this.failures,
      lastWriteAtMs: this.lastWriteAtMs,
    };
  }

  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.drain().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  private async drain(): Promise<void> {
    if (this.clock.now() < this.nextAttemptAtMs) {
      // Backing off: keep memory small by moving what waits to the spool.
      if (this.spool && this.buffer.length >= this.options.batchSize) this.toSpool();
      return;
    }
    for (;;) {
      const wroteLive = this.buffer.length > 0;
      if (wroteLive) {
        // The batch leaves the buffer while it is written: readings spilled meanwhile (add() above) are
        // never the ones in flight, and a success removes exactly what was written.
        const batch = this.buffer.splice(0, this.options.batchSize);
        this.inFlight = batch.length;
        const ok = await this.writeBatch(batch, () => {});
        this.inFlight = 0;
        if (!ok) {
          this.buffer.unshift(...batch);
          this.toSpool();
          return;
        }
      }
      // One spool batch after each live batch: the backlog drains without starving live data.
      const spooled = this.spool && this.spool.depth > 0 ? this.spool.peek(this.options.batchSize) : [];
      if (spooled.length) {
        const ok = await this.writeBatch(
          spooled.map((s) => s.reading),
          () => this.spool?.remove(spooled),
        );
        if (!ok) return;
        this.counters.inc('readings_unspooled', undefined, spooled.length);
      }
      if (!wroteLive && !spooled.length) return;
    }
  }

  private toSpool(): void {
    if (!this.spool || !this.buffer.length) return;
    this.appendToSpool(this.buffer);
    this.buffer = [];
  }

  private appendToSpool(readings: readonly Reading[]): void {
    const dropped = this.spool?.append(readings) ?? 0;
    if (dropped > 0) this.noteDropped(dropped);
  }

  /** Count a loss and say so in the log, at most once a minute (an outage can drop on every flush). */
  private noteDropped(count: number): void {
    this.droppedTotal += count;
    const now = this.clock.now();
    if (this.lastDropLogAtMs !== null && now - this.lastDropLogAtMs < 60_000) return;
    this.lastDropLogAtMs = now;
    this.logger.error(
      { droppedTotal: this.droppedTotal, spoolDepth: this.spoolDepth },
      'telemetry spool full: dropping the oldest readings',
    );
  }

  /** Write one batch; on success or permanent rejection `done()` removes it. False when the sink is unavailable. */
  private async writeBatch(batch: Reading[], done: () => void): Promise<boolean> {
    if (!this.prepared) {
      try {
        await this.sink.prepare();
        this.prepared = true;
      } catch (err) {
        this.noteFailure(err);
        return false;
      }
    }
    try {
      await this.sink.write(batch);
    } catch (err) {
      if (err instanceof HomebedError && !err.retriable) {
        done();
        this.counters.inc('readings_rejected', undefined, batch.length);
        this.spool?.quarantine(batch, err.message, this.clock.now());
        this.logger.error(
          { err: err.message, first: batch[0] },
          'InfluxDB rejected a batch; quarantined, not retried',
        );
        return true;
      }
      this.noteFailure(err);
      return false;
    }
    done();
    this.counters.inc('readings_written', undefined, batch.length);
    this.lastWriteAtMs = this.clock.now();
    if (this.failingSince !== null) {
      this.logger.info(
        { downForMs: this.clock.now() - this.failingSince, spooled: this.spoolDepth },
        'InfluxDB writes recovered; draining the spool',
      );
      this.failingSince = null;
    }
    this.failures = 0;
    this.nextAttemptAtMs = 0;
    return true;
  }

  private noteFailure(err: unknown): void {
    this.counters.inc('telemetry_write_failures');
    this.failures++;
    const max = this.options.retryMaxMs ?? 30_000;
    this.nextAttemptAtMs =
      this.clock.now() + Math.min(max, this.options.flushIntervalMs * 2 ** (this.failures - 1));
    if (this.failingSince === null) {
      this.failingSince = this.clock.now();
      this.logger.warn(
        { err: (err as Error).message, buffered: this.depth },
        'InfluxDB unavailable; spooling',
      );
    }
  }
}
