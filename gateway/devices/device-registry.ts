import type { Clock } from '../../common/clock.js';
import type { DeviceHealth } from '../../contract/index.js';
import type { DeviceConfig } from '../config/schema.js';

interface DeviceState {
  config: DeviceConfig;
  lastSeenAtMs: number | null;
  model?: string;
  firmware?: string;
}

/** Radars report every few seconds; one quiet for this long is offline (care-rules.md). */
const RADAR_OFFLINE_MS = 90_000;
/** Radio buttons only transmit when pressed; the 25 h supervision tier applies. */
const RADIO_OFFLINE_MS = 25 * 3600_000;

/**
 * The configured devices of this home and what the gateway knows of each:
 * who is at which address, when each was last heard, what it says it is.
 */
export class DeviceRegistry {
  private readonly byId = new Map<string, DeviceState>();
  private readonly byAddress = new Map<string, DeviceState>();

  constructor(
    devices: readonly DeviceConfig[],
    private readonly clock: Clock,
  ) {
    for (const config of devices) {
      const state: DeviceState = { config, lastSeenAtMs: null };
      this.byId.set(config.id, state);
      if (config.address) this.byAddress.set(config.address.toLowerCase(), state);
    }
  }

  get(id: string): DeviceConfig | undefined {
    return this.byId.get(id)?.config;
  }

  /** The device configured at a radio address (`EV1527:0d3e4:01`), if any. */
  findByAddress(address: string): DeviceConfig | undefined {
    return this.byAddress.get(address.toLowerCase())?.config;
  }

  /** Devices reached through one serial port. */
  onLink(linkId: string): DeviceConfig[] {
    return [...this.byId.values()].filter((s) => s.config.link === linkId).map((s) => s.config);
  }

  markSeen(id: string, atMs: number = this.clock.now()): void {
    const state = this.byId.get(id);
    if (state) state.lastSeenAtMs = atMs;
  }

  setIdentity(id: string, identity: { model?: string; firmware?: string }): void {
    const state = this.byId.get(id);
    if (!state) return;
    if (identity.model) state.model = identity.model;
    if (identity.firmware) state.firmware = identity.firmware;
  }

  health(): DeviceHealth[] {
    const now = this.clock.now();
    return [...this.byId.values()].map((s) => {
      const radio = s.config.kind === 'ev1527_button' || s.config.kind === 'pt2262_button';
      const limit = radio ? RADIO_OFFLINE_MS : RADAR_OFFLINE_MS;
      return {
        id: s.config.id,
        kind: s.config.kind,
        ...(s.lastSeenAtMs !== null ? { lastSeenAt: new Date(s.lastSeenAtMs).toISOString() } : {}),
        online: s.lastSeenAtMs !== null && now - s.lastSeenAtMs <= limit,
      };
    });
  }
}
