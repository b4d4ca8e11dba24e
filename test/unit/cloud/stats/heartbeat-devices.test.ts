import { describe, expect, it } from 'vitest';
import {
  requiredDevicesFromHeartbeats,
  SUPERVISION_TIMEOUT_MS_BY_KIND,
  supervisionTimeoutMs,
  UNKNOWN_KIND_TIMEOUT_MS,
} from '../../../../cloud/stats/heartbeat-devices.js';
import { DEVICE_KINDS } from '../../../../gateway/devices/device-kinds.js';

const MIN = 60_000;

describe('supervision timeouts by device kind', () => {
  it('agree with the gateway’s device kinds, every one of them', () => {
    const gateway = Object.fromEntries(
      Object.entries(DEVICE_KINDS).map(([k, v]) => [k, v.offlineAfterS * 1000]),
    );
    expect(SUPERVISION_TIMEOUT_MS_BY_KIND).toEqual(gateway);
  });

  it('are 90 s for radars, 25 h for radio buttons and contacts, and the shortest for an unknown kind', () => {
    expect(supervisionTimeoutMs('mr60bha1')).toBe(90_000);
    expect(supervisionTimeoutMs('rf_button')).toBe(25 * 3_600_000);
    expect(supervisionTimeoutMs('rf_contact')).toBe(25 * 3_600_000);
    expect(supervisionTimeoutMs('lidar_9000')).toBe(UNKNOWN_KIND_TIMEOUT_MS);
    expect(supervisionTimeoutMs('toString')).toBe(UNKNOWN_KIND_TIMEOUT_MS);
  });
});

describe('requiredDevicesFromHeartbeats', () => {
  it('takes the distinct lastSeenAt samples and the kind of the latest listing', () => {
    const devices = requiredDevicesFromHeartbeats([
      {
        atMs: 0,
        intervalMs: MIN,
        devices: [{ id: 'b', kind: 'rf_button', lastSeenAt: '1970-01-01T00:00:00.000Z' }],
      },
      {
        atMs: MIN,
        intervalMs: MIN,
        devices: [{ id: 'b', kind: 'rf_button', lastSeenAt: '1970-01-01T00:00:00.000Z' }],
      },
      {
        atMs: 2 * MIN,
        intervalMs: MIN,
        devices: [
          { id: 'b', kind: 'mr60bha1', lastSeenAt: '1970-01-01T00:02:00.000Z' },
          { id: 'a', kind: 'rf_pir' },
        ],
      },
    ]);
    expect(devices).toEqual([
      // Never heard: no sample; not required before the heartbeat that first lists it.
      {
        id: 'a',
        reporting: [
          [0, MIN],
          [MIN, 2 * MIN],
        ],
        seenAt: [],
        supervisionTimeoutMs: 25 * 3_600_000,
      },
      { id: 'b', seenAt: [0, 2 * MIN], supervisionTimeoutMs: 90_000 },
    ]);
  });

  it('does not require a device while the latest heartbeat leaves it out, for at most 3 intervals', () => {
    const [door] = requiredDevicesFromHeartbeats([
      { atMs: 0, intervalMs: MIN, devices: [{ id: 'door', kind: 'rf_contact' }] },
      { atMs: MIN, intervalMs: MIN, devices: [] },
      // 10 minutes without a heartbeat: the word of the one at 1 min holds until 4 min.
      { atMs: 11 * MIN, intervalMs: MIN, devices: [] },
    ]);
    expect(door!.reporting).toEqual([
      [MIN, 4 * MIN],
      [11 * MIN, 14 * MIN],
    ]);
  });
});
