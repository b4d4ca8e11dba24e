import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import type { GatewayEvents } from '../devices/device-event.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { AlarmBook } from '../rules/alarm-book.js';

export interface DeviceSupervisorOptions {
  /** How often reporting times are checked. */
  checkIntervalMs: number;
  /** How often device health is written as readings. */
  healthIntervalMs: number;
  /** A battery at or below this percentage counts as low, as does a device's own low flag. */
  batteryLowPercent: number;
  /** `device_battery_low` is raised at most once per device in this span (care-rules.md: once a day). */
  batteryAlarmMinIntervalMs: number;
}

/**
 * Device supervision (care-rules.md): `device_offline` when a device stays
 * silent past its class's reporting time or its transport says it is gone,
 * cleared when it is heard again; `device_battery_low` when it reports a low
 * battery, at most once a day per device, cleared when the battery is fine.
 * Also writes device health (online, battery) as readings.
 */
export class DeviceSupervisor {
  private timers: TimerHandle[] = [];
  private offs: (() => void)[] = [];

  constructor(
    private readonly registry: DeviceRegistry,
    private readonly bus: TypedEmitter<GatewayEvents>,
    private readonly book: AlarmBook,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: DeviceSupervisorOptions,
  ) {}

  start(): void {
    this.offs.push(
      this.bus.on('reading', (r) => {
        if (r.metric === 'battery' && typeof r.value === 'number') {
          this.registry.setBattery(r.deviceId, { percent: r.value });
          this.onBattery(
            r.deviceId,
            r.value <= this.options.batteryLowPercent,
            r.atMs,
            `battery ${r.value} %`,
          );
        } else if (r.metric === 'battery_low' && typeof r.value === 'boolean') {
          this.registry.setBattery(r.deviceId, { low: r.value });
          this.onBattery(r.deviceId, r.value, r.atMs, r.value ? 'battery low' : 'battery ok');
        }
        this.checkDevice(r.deviceId);
      }),
      this.bus.on('deviceEvent', (e) => this.checkDevice(e.deviceId)),
      this.bus.on('availability', (a) =>
        this.checkDevice(a.deviceId, a.online ? 'availability online' : 'availability offline'),
      ),
    );
    this.timers.push(
      this.clock.setInterval(() => this.checkAll(), this.options.checkIntervalMs),
      this.clock.setInterval(() => this.emitHealth(), this.options.healthIntervalMs),
    );
  }

  stop(): void {
    for (const t of this.timers) t.cancel();
    for (const off of this.offs) off();
    this.timers = [];
    this.offs = [];
  }

  checkAll(): void {
    for (const device of this.registry.all()) this.checkDevice(device.id);
  }

  private checkDevice(deviceId: string, reason?: string): void {
    const device = this.registry.get(deviceId);
    if (!device) return;
    const key = `device_offline:${deviceId}`;
    const now = this.clock.now();
    const online = this.registry.isOnline(deviceId, now);
    const at = new Date(now).toISOString();
    if (!online) {
      const limit = this.registry.offlineAfterMs(deviceId);
      const raised = this.book.raise(key, {
        type: 'device_offline',
        severity: 'technical',
        state: 'raised',
        atMs: now,
        deviceId,
        evidence: [
          {
            deviceId,
            kind: 'supervision',
            value: reason ?? `silent for more than ${Math.round((limit ?? 0) / 1000)} s`,
            at,
          },
        ],
        message: `${device.room ? `${device.room}: ` : ''}${deviceId} is not reporting`,
      });
      if (raised) this.logger.warn({ device: deviceId, reason }, 'device offline');
    } else if (this.book.isActive(key)) {
      this.book.clear(key, now, [{ deviceId, kind: 'supervision', value: reason ?? 'heard again', at }]);
      this.logger.info({ device: deviceId }, 'device back online');
    }
  }

  private onBattery(deviceId: string, low: boolean, atMs: number, detail: string): void {
    const key = `device_battery_low:${deviceId}`;
    const evidence = [{ deviceId, kind: 'battery', value: detail, at: new Date(atMs).toISOString() }];
    if (!low) {
      if (this.book.clear(key, atMs, evidence))
        this.logger.info({ device: deviceId }, 'battery no longer low');
      return;
    }
    if (this.book.isActive(key)) return;
    const last = this.book.lastRaisedAtMs(key);
    if (last !== null && atMs - last < this.options.batteryAlarmMinIntervalMs) return;
    const device = this.registry.get(deviceId);
    this.book.raise(key, {
      type: 'device_battery_low',
      severity: 'technical',
      state: 'raised',
      atMs,
      deviceId,
      evidence,
      message: `${device?.room ? `${device.room}: ` : ''}${deviceId} needs a new battery`,
    });
    this.logger.warn({ device: deviceId, detail }, 'battery low');
  }

  /** Device health as readings (InfluxDB `device_online`, `battery`), so gaps and trends are visible. */
  emitHealth(): void {
    const atMs = this.clock.now();
    for (const h of this.registry.health()) {
      this.bus.emit('reading', { deviceId: h.id, metric: 'device_online', value: h.online, atMs });
    }
  }
}
