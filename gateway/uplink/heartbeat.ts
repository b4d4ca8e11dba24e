import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import { encodePayload, type HeartbeatMessage, heartbeatMessageSchema } from '../../contract/index.js';
import type { CloudLink } from './cloud-link.js';

/**
 * Sends a heartbeat on connect and then every interval, so the cloud can
 * tell a quiet home from a dead gateway. The snapshot is assembled by the
 * caller, which knows the devices, links and queues.
 */
export class HeartbeatPublisher {
  private timer: TimerHandle | null = null;
  private off: (() => void) | null = null;
  private _lastSentAtMs: number | null = null;

  constructor(
    private readonly link: CloudLink,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private intervalS: number,
    private readonly snapshot: (intervalS: number) => HeartbeatMessage,
  ) {}

  start(): void {
    this.off = this.link.events.on('connected', () => void this.beat());
    this.schedule();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
    this.off?.();
    this.off = null;
  }

  /** When the last heartbeat reached the broker (PUBACK), by the gateway's clock; null before the first. */
  get lastSentAtMs(): number | null {
    return this._lastSentAtMs;
  }

  get interval(): number {
    return this.intervalS;
  }

  /** Change the interval (a `set_heartbeat_interval` command); the next beat follows it. */
  setIntervalS(intervalS: number): void {
    this.intervalS = intervalS;
    if (this.timer) this.schedule();
    void this.beat();
  }

  private schedule(): void {
    this.timer?.cancel();
    this.timer = this.clock.setInterval(() => void this.beat(), this.intervalS * 1000);
  }

  async beat(): Promise<void> {
    if (!this.link.connected) return;
    try {
      await this.link.publish(
        'heartbeat',
        encodePayload(heartbeatMessageSchema, this.snapshot(this.intervalS)),
      );
      this._lastSentAtMs = this.clock.now();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'heartbeat not sent');
    }
  }
}
