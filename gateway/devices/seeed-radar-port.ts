import type { Clock } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import type { SerialPortConfig } from '../config/schema.js';
import type { SerialLink } from '../transports/serial-link.js';
import { seeedReportToReadings } from './definitions/seeed-radar.js';
import type { GatewayEvents } from './device-event.js';
import type { DeviceRegistry } from './device-registry.js';
import { PartialInputTimer } from './partial-input-timer.js';
import {
  decodeReport,
  encodeFrame,
  queryFirmwareVersion,
  queryProductModel,
  SeeedFramer,
} from './protocols/seeed/index.js';

/**
 * A serial port with a Seeed 60 GHz radar on it: bytes → framer → report →
 * readings on the bus. On every open it asks the module for its model and
 * firmware so the log says what is actually plugged in.
 */
export class SeeedRadarPort {
  private readonly framer: SeeedFramer;
  private readonly partialTimer: PartialInputTimer;
  private offs: (() => void)[] = [];
  private readonly deviceId: string | null;

  constructor(
    private readonly portConfig: SerialPortConfig,
    private readonly link: SerialLink,
    private readonly registry: DeviceRegistry,
    private readonly bus: TypedEmitter<GatewayEvents>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {
    this.framer = new SeeedFramer({
      onDrop: (reason, bytes) => {
        this.counters.inc('frames_dropped', { link: portConfig.id, reason });
        this.logger.debug({ reason, bytes: Buffer.from(bytes).toString('hex') }, 'seeed frame dropped');
      },
    });
    this.deviceId = registry.onLink(portConfig.id)[0]?.id ?? null;
    this.partialTimer = new PartialInputTimer(clock, portConfig.partialFrameTimeoutMs, () =>
      this.framer.discardPartial(),
    );
  }

  start(): void {
    this.offs.push(
      this.link.events.on('open', () => {
        this.link.write(encodeFrame(queryProductModel()));
        this.link.write(encodeFrame(queryFirmwareVersion()));
      }),
      this.link.events.on('data', (chunk) => this.onData(chunk)),
    );
  }

  stop(): void {
    this.partialTimer.stop();
    for (const off of this.offs) off();
    this.offs = [];
  }

  private onData(chunk: Uint8Array): void {
    const atMs = this.clock.now();
    const frames = this.framer.push(chunk);
    this.partialTimer.afterInput(this.framer.hasPartial());
    for (const frame of frames) {
      this.counters.inc('frames_decoded', { link: this.portConfig.id });
      const report = decodeReport(frame);
      if (!this.deviceId) {
        this.counters.inc('frames_unpaired', { link: this.portConfig.id });
        continue;
      }
      this.registry.markSeen(this.deviceId, atMs);
      if (report.type === 'invalid') {
        this.counters.inc('reports_invalid', { link: this.portConfig.id });
        this.logger.warn(
          { device: this.deviceId, reason: report.reason },
          'radar report out of range; ignored',
        );
        continue;
      }
      if (report.type === 'product_model' || report.type === 'firmware_version') {
        const identity =
          report.type === 'product_model' ? { model: report.model } : { firmware: report.version };
        this.registry.setIdentity(this.deviceId, identity);
        this.logger.info(
          { device: this.deviceId, link: this.portConfig.id, ...identity },
          'radar identified',
        );
        this.bus.emit('deviceIdentified', { deviceId: this.deviceId, ...identity });
        const kind = this.registry.get(this.deviceId)?.kind;
        if (report.type === 'product_model' && kind && !report.model.toLowerCase().includes(kind.slice(2))) {
          // An MR60FDA1 configured as the bed radar would never report heart rate: tell the installer.
          this.counters.inc('radar_model_mismatch', { link: this.portConfig.id });
          this.logger.error(
            { device: this.deviceId, link: this.portConfig.id, configured: kind, reported: report.model },
            'the radar on this port is not the model configured for it',
          );
        }
        continue;
      }
      for (const reading of seeedReportToReadings(this.deviceId, report, atMs)) {
        this.bus.emit('reading', reading);
      }
    }
  }
}
