import type { Clock } from '../../common/clock.js';
import type { Counters } from '../../common/counters.js';
import type { Logger } from '../../common/logger.js';
import type { DeviceHealth, UnpairedDevice } from '../../contract/index.js';
import type { DeviceConfig } from '../config/schema.js';
import { DEVICE_KINDS, type DeviceKindInfo, type Transport } from './device-kinds.js';

interface DeviceState {
  config: DeviceConfig;
  transport: Transport;
  lastSeenAtMs: number | null;
  /** Availability as the transport states it (zigbee2mqtt, native); null = not stated. */
  available: boolean | null;
  battery?: number;
  batteryLow?: boolean;
  model?: string;
  firmware?: string;
}

/** `close`: the second code of a two-code door contact. */
export type AddressChannel = 'main' | 'close';

interface UnpairedState {
  transport: Transport;
  address: string;
  firstSeenAtMs: number;
  lastSeenAtMs: number;
  count: number;
  detail?: string;
}

/** At most this many unpaired transmitters are remembered (a neighbour's weather station must not grow memory). */
const MAX_UNPAIRED = 50;

/**
 * The configured devices of this home and what the gateway knows of each:
 * who is at which address, when each was last heard, what it says it is,
 * its battery; and the transmitters heard that nobody configured.
 */
export class DeviceRegistry {
  private readonly byId = new Map<string, DeviceState>();
  private readonly byAddress = new Map<string, { state: DeviceState; channel: AddressChannel }>();
  private readonly unpaired = new Map<string, UnpairedState>();
  private readonly startedAtMs: number;

  constructor(
    devices: readonly DeviceConfig[],
    private readonly clock: Clock,
    private readonly logger?: Logger,
    private readonly counters?: Counters,
  ) {
    this.startedAtMs = clock.now();
    for (const config of devices) {
      const transport = DEVICE_KINDS[config.kind].transport;
      const state: DeviceState = { config, transport, lastSeenAtMs: null, available: null };
      this.byId.set(config.id, state);
      const address = config.address ?? (transport === 'native' ? config.id : undefined);
      if (address)
        this.byAddress.set(DeviceRegistry.addressKey(transport, address), { state, channel: 'main' });
      if (config.closeAddress) {
        this.byAddress.set(DeviceRegistry.addressKey(transport, config.closeAddress), {
          state,
          channel: 'close',
        });
      }
    }
  }

  private static addressKey(transport: Transport, address: string): string {
    return `${transport}:${address.toLowerCase()}`;
  }

  get(id: string): DeviceConfig | undefined {
    return this.byId.get(id)?.config;
  }

  all(): DeviceConfig[] {
    return [...this.byId.values()].map((s) => s.config);
  }

  transportOf(id: string): Transport | undefined {
    return this.byId.get(id)?.transport;
  }

  /** The device configured at an address of a transport (`rflink` + `EV1527:0d3e4:01`, `zigbee2mqtt` + friendly name). */
  findByAddress(transport: Transport, address: string): DeviceConfig | undefined {
    return this.byAddress.get(DeviceRegistry.addressKey(transport, address))?.state.config;
  }

  /** Like findByAddress, also saying which of the device's codes it was (two-code door contacts). */
  resolveAddress(
    transport: Transport,
    address: string,
  ): { device: DeviceConfig; channel: AddressChannel } | undefined {
    const hit = this.byAddress.get(DeviceRegistry.addressKey(transport, address));
    return hit ? { device: hit.state.config, channel: hit.channel } : undefined;
  }

  /** Devices reached through one serial port. */
  onLink(linkId: string): DeviceConfig[] {
    return [...this.byId.values()].filter((s) => s.config.link === linkId).map((s) => s.config);
  }

  markSeen(id: string, atMs: number = this.clock.now()): void {
    const state = this.byId.get(id);
    if (state) state.lastSeenAtMs = atMs;
  }

  setAvailability(id: string, available: boolean): void {
    const state = this.byId.get(id);
    if (state) state.available = available;
  }

  setBattery(id: string, battery: { percent?: number; low?: boolean }): void {
    const state = this.byId.get(id);
    if (!state) return;
    if (battery.percent !== undefined) state.battery = battery.percent;
    if (battery.low !== undefined) state.batteryLow = battery.low;
  }

  setIdentity(id: string, identity: { model?: string; firmware?: string }): void {
    const state = this.byId.get(id);
    if (!state) return;
    if (identity.model) state.model = identity.model;
    if (identity.firmware) state.firmware = identity.firmware;
  }

  /**
   * A transmitter this home has not configured: logged once, counted every
   * time, listed in the heartbeat — never silently dropped.
   */
  reportUnpaired(transport: Transport, address: string, detail?: string): void {
    const key = DeviceRegistry.addressKey(transport, address);
    const now = this.clock.now();
    this.counters?.inc('devices_unpaired_seen', { transport });
    const known = this.unpaired.get(key);
    if (known) {
      known.lastSeenAtMs = now;
      known.count++;
      return;
    }
    if (this.unpaired.size >= MAX_UNPAIRED) {
      const oldest = [...this.unpaired.entries()].sort((a, b) => a[1].lastSeenAtMs - b[1].lastSeenAtMs)[0];
      if (oldest) this.unpaired.delete(oldest[0]);
    }
    this.unpaired.set(key, {
      transport,
      address,
      firstSeenAtMs: now,
      lastSeenAtMs: now,
      count: 1,
      ...(detail ? { detail: detail.slice(0, 200) } : {}),
    });
    this.logger?.warn(
      { transport, address, detail },
      'device seen but not paired (not in the configuration)',
    );
  }

  unpairedDevices(): UnpairedDevice[] {
    return [...this.unpaired.values()].map((u) => ({
      transport: u.transport,
      address: u.address,
      firstSeenAt: new Date(u.firstSeenAtMs).toISOString(),
      lastSeenAt: new Date(u.lastSeenAtMs).toISOString(),
      count: u.count,
      ...(u.detail ? { detail: u.detail } : {}),
    }));
  }

  /** Silence limit of a device in ms. */
  offlineAfterMs(id: string): number | null {
    const state = this.byId.get(id);
    if (!state) return null;
    return (state.config.offlineAfterS ?? DEVICE_KINDS[state.config.kind].offlineAfterS) * 1000;
  }

  /**
   * Whether a device is online now: not declared offline by its transport,
   * and heard within its reporting time (unless its transport's availability decides).
   */
  isOnline(id: string, now: number = this.clock.now()): boolean {
    const state = this.byId.get(id);
    if (!state) return false;
    if (state.available === false) return false;
    const kind: DeviceKindInfo = DEVICE_KINDS[state.config.kind];
    if (state.available === true && kind.availabilityDecides) return true;
    // A device never heard gets its reporting time from the gateway's start, not from the epoch.
    return now - (state.lastSeenAtMs ?? this.startedAtMs) <= (this.offlineAfterMs(id) ?? 0);
  }

  health(): DeviceHealth[] {
    const now = this.clock.now();
    return [...this.byId.values()].map((s) => ({
      id: s.config.id,
      kind: s.config.kind,
      ...(s.lastSeenAtMs !== null ? { lastSeenAt: new Date(s.lastSeenAtMs).toISOString() } : {}),
      online: this.isOnline(s.config.id, now),
      ...(s.battery !== undefined ? { battery: s.battery } : {}),
      ...(s.batteryLow !== undefined ? { batteryLow: s.batteryLow } : {}),
      ...(s.model ? { model: s.model } : {}),
      ...(s.firmware ? { firmware: s.firmware } : {}),
    }));
  }
}
