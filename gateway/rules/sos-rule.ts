import type { Logger } from '../../common/logger.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import type { GatewayEvents } from '../devices/device-event.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { AlarmDraft } from '../uplink/alarm-outbox.js';

export interface SosRuleOptions {
  /** Presses of one button closer together than this are one press. */
  repeatWindowMs: number;
}

/**
 * SOS: a press of a device whose role is `sos_button`, or an explicit
 * emergency from any device (zigbee `action: emergency`, a native `sos`
 * event), raises a critical `sos_button` alarm at once. Presses within the
 * repeat window are the same call for help, not new alarms.
 */
export class SosRule {
  private readonly lastPressAtMs = new Map<string, number>();
  private off: (() => void) | null = null;

  constructor(
    private readonly bus: TypedEmitter<GatewayEvents>,
    private readonly registry: DeviceRegistry,
    private readonly raise: (draft: AlarmDraft) => void,
    private readonly logger: Logger,
    private readonly options: SosRuleOptions,
  ) {}

  start(): void {
    this.off = this.bus.on('deviceEvent', (event) => {
      const device = this.registry.get(event.deviceId);
      if (!device) return;
      const isSos = event.kind === 'sos' || (event.kind === 'button_press' && device.role === 'sos_button');
      if (!isSos) return;
      const last = this.lastPressAtMs.get(device.id);
      this.lastPressAtMs.set(device.id, event.atMs);
      if (last !== undefined && event.atMs - last < this.options.repeatWindowMs) {
        this.logger.debug({ device: device.id }, 'SOS press within the repeat window; same call');
        return;
      }
      this.raise({
        type: 'sos_button',
        severity: 'critical',
        state: 'raised',
        atMs: event.atMs,
        deviceId: device.id,
        evidence: [
          {
            deviceId: device.id,
            kind: event.kind,
            at: new Date(event.atMs).toISOString(),
            raw: event.raw.slice(0, 512),
          },
        ],
        message: device.room ? `SOS button pressed (${device.room})` : 'SOS button pressed',
      });
    });
  }

  stop(): void {
    this.off?.();
    this.off = null;
  }
}
