import type { RequiredDevice } from './coverage.js';
import type { Interval } from './intervals.js';

/**
 * The devices a bed needs, as the cloud learns them from its gateway's
 * heartbeats (each lists every configured device with its `kind` and
 * `lastSeenAt`), for the coverage figures.
 */

const RADAR_TIMEOUT_MS = 90_000;
const RADIO_TIMEOUT_MS = 25 * 3600_000;

/**
 * Supervision timeout by the `kind` a gateway puts in `DeviceHealth.kind`:
 * its device kinds (gateway/devices/device-kinds.ts), with the reporting
 * times of care-rules.md. Radars stream readings every second, so 90 s of
 * silence is a fault; radio buttons, contacts and detectors only check in
 * with a supervision message, so 25 h. Zigbee and native devices get the
 * radio tier, which is what the gateway uses when it has nothing better.
 * Kept here rather than imported: the cloud does not depend on gateway code,
 * and a test checks the two tables agree.
 */
export const SUPERVISION_TIMEOUT_MS_BY_KIND: Readonly<Record<string, number>> = {
  mr60bha1: RADAR_TIMEOUT_MS,
  mr60fda1: RADAR_TIMEOUT_MS,
  rf_button: RADIO_TIMEOUT_MS,
  rf_contact: RADIO_TIMEOUT_MS,
  rf_pir: RADIO_TIMEOUT_MS,
  rf_smoke: RADIO_TIMEOUT_MS,
  rf_gas: RADIO_TIMEOUT_MS,
  rf_water: RADIO_TIMEOUT_MS,
  zigbee: RADIO_TIMEOUT_MS,
  native: RADIO_TIMEOUT_MS,
};

/**
 * A kind the cloud does not know (a newer gateway) gets the shortest
 * timeout: an unknown device then shows as silent too often, which someone
 * notices and fixes, rather than as watched when it was not.
 */
export const UNKNOWN_KIND_TIMEOUT_MS = RADAR_TIMEOUT_MS;

export function supervisionTimeoutMs(kind: string): number {
  return Object.hasOwn(SUPERVISION_TIMEOUT_MS_BY_KIND, kind)
    ? SUPERVISION_TIMEOUT_MS_BY_KIND[kind]!
    : UNKNOWN_KIND_TIMEOUT_MS;
}

/** One device as a heartbeat lists it (the fields of `DeviceHealth` used here). */
export interface HeartbeatDevice {
  id: string;
  kind: string;
  lastSeenAt?: string;
}

/** A stored heartbeat: when the cloud received it, its interval, its device list. */
export interface HeartbeatSample {
  atMs: number;
  intervalMs: number;
  devices: readonly HeartbeatDevice[];
}

export interface RequiredDevicesOptions {
  /** How long a heartbeat's word holds: `missedHeartbeats × its interval` (as for the gateway). Default 3. */
  missedHeartbeats?: number;
  timeoutFor?: (kind: string) => number;
}

/**
 * Every device listed by any of the heartbeats, as a required device:
 * heard at each distinct `lastSeenAt` (reporting until that plus its kind's
 * timeout, the kind of its latest listing), and not required while the
 * latest heartbeat does not list it, i.e. before it was installed or after
 * it was removed from the gateway's configuration: from such a heartbeat
 * until the next one, or at most `missedHeartbeats × interval` after it.
 * Those spans are given as `reporting`, so a removed device never shows as
 * silent. Devices are sorted by id.
 */
export function requiredDevicesFromHeartbeats(
  samples: readonly HeartbeatSample[],
  options: RequiredDevicesOptions = {},
): RequiredDevice[] {
  const missed = options.missedHeartbeats ?? 3;
  const timeoutFor = options.timeoutFor ?? supervisionTimeoutMs;
  const sorted = [...samples].sort((a, b) => a.atMs - b.atMs);
  const listed = sorted.map((sample) => new Set(sample.devices.map((d) => d.id)));
  const devices = new Map<string, { kind: string; seen: Set<number> }>();
  for (const sample of sorted) {
    for (const d of sample.devices) {
      const entry = devices.get(d.id) ?? { kind: d.kind, seen: new Set<number>() };
      entry.kind = d.kind;
      const seen = d.lastSeenAt === undefined ? Number.NaN : Date.parse(d.lastSeenAt);
      if (Number.isFinite(seen)) entry.seen.add(seen);
      devices.set(d.id, entry);
    }
  }
  return [...devices]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, { kind, seen }]) => {
      const notRequired: Interval[] = [];
      sorted.forEach((sample, i) => {
        if (listed[i]!.has(id)) return;
        const next = sorted[i + 1]?.atMs ?? Number.POSITIVE_INFINITY;
        notRequired.push([sample.atMs, Math.min(next, sample.atMs + missed * sample.intervalMs)]);
      });
      const reporting = notRequired.map(([a, b]) => [a, b] as const);
      return {
        id,
        ...(reporting.length > 0 ? { reporting } : {}),
        seenAt: [...seen].sort((a, b) => a - b),
        supervisionTimeoutMs: timeoutFor(kind),
      };
    });
}
