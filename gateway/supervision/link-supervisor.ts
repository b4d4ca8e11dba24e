import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import type { GatewayEvents } from '../devices/device-event.js';
import type { AlarmBook } from '../rules/alarm-book.js';
import type { SerialLink } from '../transports/serial-link.js';

const DROP_REASONS = [
  'checksum',
  'tail',
  'length',
  'timeout',
  'prefix',
  'charset',
  'terminator',
  'counter',
  'field',
  'empty',
];

/**
 * Serial link supervision (care-rules.md): a port that is closed for
 * `lostAfterMs` (missing at start, unplugged, erroring) raises
 * `serial_link_lost`; its return clears it. The link itself keeps retrying.
 * Also writes link health (open, frames dropped by reason) as readings.
 */
export class LinkSupervisor {
  private readonly pending = new Map<string, TimerHandle>();
  private offs: (() => void)[] = [];
  private healthTimer: TimerHandle | null = null;

  constructor(
    private readonly links: ReadonlyMap<string, SerialLink>,
    private readonly book: AlarmBook,
    private readonly bus: TypedEmitter<GatewayEvents>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
    private readonly options: {
      lostAfterMs: number;
      healthIntervalMs: number;
      /** The device reached through a port, so staff see which device lost its cable. */
      deviceOf?: (linkId: string) => string | undefined;
    },
  ) {}

  start(): void {
    for (const [id, link] of this.links) {
      this.offs.push(
        link.events.on('close', ({ reason }) => this.armLost(id, reason)),
        link.events.on('open', () => this.onOpen(id)),
      );
      // A port missing at start is lost too, once it has had its chance to open.
      if (link.state === 'closed') this.armLost(id, 'not open since start');
    }
    this.healthTimer = this.clock.setInterval(() => this.emitHealth(), this.options.healthIntervalMs);
  }

  stop(): void {
    for (const t of this.pending.values()) t.cancel();
    this.pending.clear();
    for (const off of this.offs) off();
    this.offs = [];
    this.healthTimer?.cancel();
    this.healthTimer = null;
  }

  private armLost(id: string, reason: string): void {
    if (this.pending.has(id)) return;
    const since = this.clock.now();
    this.pending.set(
      id,
      this.clock.setTimeout(() => {
        this.pending.delete(id);
        if (this.links.get(id)?.state === 'open') return;
        const now = this.clock.now();
        const raised = this.book.raise(`serial_link_lost:${id}`, {
          type: 'serial_link_lost',
          severity: 'technical',
          state: 'raised',
          atMs: now,
          deviceId: this.options.deviceOf?.(id) ?? id,
          evidence: [{ deviceId: id, kind: 'serial_link', value: reason, at: new Date(since).toISOString() }],
          message: `serial port ${id} lost (${reason})`,
        });
        if (raised) this.logger.warn({ link: id, reason }, 'serial link lost');
      }, this.options.lostAfterMs),
    );
  }

  private onOpen(id: string): void {
    this.pending.get(id)?.cancel();
    this.pending.delete(id);
    const now = this.clock.now();
    const cleared = this.book.clear(`serial_link_lost:${id}`, now, [
      { deviceId: id, kind: 'serial_link', value: 'open', at: new Date(now).toISOString() },
    ]);
    if (cleared) this.logger.info({ link: id }, 'serial link back');
  }

  emitHealth(): void {
    const atMs = this.clock.now();
    for (const [id, link] of this.links) {
      this.bus.emit('reading', { deviceId: id, metric: 'link_open', value: link.state === 'open', atMs });
      for (const reason of DROP_REASONS) {
        const seeed = this.counters.get('frames_dropped', { link: id, reason });
        const rflink = this.counters.get('lines_dropped', { link: id, reason });
        if (seeed + rflink > 0) {
          this.bus.emit('reading', {
            deviceId: id,
            metric: 'frames_dropped',
            value: seeed + rflink,
            atMs,
            tags: { reason },
          });
        }
      }
    }
  }
}
