import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import type { SerialPortConfig } from '../config/schema.js';
import type { SerialLink } from '../transports/serial-link.js';
import { rflinkPacketToInputs } from './definitions/rflink-devices.js';
import type { GatewayEvents } from './device-event.js';
import type { DeviceRegistry } from './device-registry.js';
import { PartialInputTimer } from './partial-input-timer.js';
import {
  formatRflinkCommand,
  LineFramer,
  parseRflinkLine,
  RflinkParseError,
  rflinkDeviceKey,
} from './protocols/rflink/index.js';

/** A transmitter repeats one press several times within about a second; collapse those. */
const REPEAT_WINDOW_MS = 800;

/**
 * A serial port with an RFLink 433 MHz receiver: lines → messages →
 * button presses of the configured devices. Transmitters that are heard
 * but not configured are reported as seen-but-not-paired, never silently dropped.
 */
export class RflinkPort {
  private readonly framer = new LineFramer();
  private readonly partialTimer: PartialInputTimer;
  private offs: (() => void)[] = [];
  private readonly lastPacket = new Map<string, { line: string; atMs: number }>();
  private pingTimer: TimerHandle | null = null;
  private pingsUnanswered = 0;

  constructor(
    private readonly portConfig: SerialPortConfig,
    private readonly link: SerialLink,
    private readonly registry: DeviceRegistry,
    private readonly bus: TypedEmitter<GatewayEvents>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {
    this.partialTimer = new PartialInputTimer(clock, portConfig.partialFrameTimeoutMs, () => {
      if (this.framer.discardPartial())
        counters.inc('lines_dropped', { link: portConfig.id, reason: 'timeout' });
    });
  }

  start(): void {
    this.offs.push(
      this.link.events.on('open', () => {
        this.pingsUnanswered = 0;
        this.link.write(Buffer.from(formatRflinkCommand('VERSION')));
      }),
      this.link.events.on('data', (chunk) => this.onData(chunk)),
    );
    // The receiver is silent when no transmitter sends, so ask it now and then
    // whether it is alive: a hung Arduino would otherwise hide every button.
    this.pingTimer = this.clock.setInterval(() => this.ping(), this.portConfig.pingIntervalS * 1000);
  }

  /** Whether the receiver answered recent PINGs (false after two went unanswered). */
  get responsive(): boolean {
    return this.pingsUnanswered < 2;
  }

  private ping(): void {
    if (this.link.state !== 'open') return;
    if (this.pingsUnanswered === 2) {
      this.counters.inc('rflink_unresponsive', { link: this.portConfig.id });
      this.logger.error(
        { link: this.portConfig.id },
        'RFLink receiver does not answer PING; radio devices may be unheard',
      );
    }
    this.pingsUnanswered++;
    this.link.write(Buffer.from(formatRflinkCommand('PING')));
  }

  stop(): void {
    this.pingTimer?.cancel();
    this.pingTimer = null;
    this.partialTimer.stop();
    for (const off of this.offs) off();
    this.offs = [];
  }

  private onData(chunk: Uint8Array): void {
    const atMs = this.clock.now();
    const lines = this.framer.push(chunk);
    this.partialTimer.afterInput(this.framer.hasPartial());
    for (const line of lines) this.onLine(line, atMs);
  }

  private onLine(line: string, atMs: number): void {
    let message: ReturnType<typeof parseRflinkLine>;
    try {
      message = parseRflinkLine(line);
    } catch (err) {
      const reason = err instanceof RflinkParseError ? err.reason : 'error';
      this.counters.inc('lines_dropped', { link: this.portConfig.id, reason });
      this.logger.warn(
        { link: this.portConfig.id, line: line.slice(0, 120), reason },
        'unreadable RFLink line dropped',
      );
      return;
    }
    this.counters.inc('lines_decoded', { link: this.portConfig.id });
    switch (message.kind) {
      case 'banner':
        this.logger.info({ link: this.portConfig.id, banner: message.text }, 'RFLink receiver started');
        return;
      case 'version':
        this.logger.info(
          {
            link: this.portConfig.id,
            version: message.version,
            revision: message.revision,
            build: message.build,
          },
          'RFLink receiver identified',
        );
        return;
      case 'pong':
        if (this.pingsUnanswered >= 2)
          this.logger.info({ link: this.portConfig.id }, 'RFLink receiver answers again');
        this.pingsUnanswered = 0;
        this.counters.inc('rflink_pongs', { link: this.portConfig.id });
        return;
      case 'other':
        return;
      case 'packet':
        break;
    }
    const key = rflinkDeviceKey(message);
    if (!key) return;
    const resolved = this.registry.resolveAddress('rflink', key);
    if (!resolved) {
      this.registry.reportUnpaired('rflink', key, line);
      return;
    }
    const { device, channel } = resolved;
    this.registry.markSeen(device.id, atMs);
    const body = line.replace(/^20;[0-9A-Fa-f]{2};/, '');
    const last = this.lastPacket.get(key);
    this.lastPacket.set(key, { line: body, atMs });
    if (last && last.line === body && atMs - last.atMs <= REPEAT_WINDOW_MS) {
      this.counters.inc('rflink_repeats_collapsed', { link: this.portConfig.id });
      return;
    }
    const { readings, events } = rflinkPacketToInputs(device, message, atMs, line, channel);
    for (const reading of readings) this.bus.emit('reading', reading);
    for (const event of events) this.bus.emit('deviceEvent', event);
  }
}
