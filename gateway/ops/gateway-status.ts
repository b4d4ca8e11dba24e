import type { UnpairedDevice } from '../../contract/index.js';

/**
 * What `GET /status` on the gateway's ops server answers (JSON), and what
 * `npm run gateway -- status` prints: enough for an installer to see at a
 * glance whether the home is wired up (docs/metrics.md). Times are ISO-8601
 * by the gateway's clock; null when it has not happened yet.
 */
export interface GatewayStatus {
  gatewayId: string;
  bedId: string;
  software: string;
  startedAt: string;
  now: string;
  uptimeS: number;
  cloud: {
    /** The relay's MQTT URL (without any user info). */
    url: string;
    connected: boolean;
    lastConnectedAt: string | null;
    lastDisconnectedAt: string | null;
    lastHeartbeatAt: string | null;
    heartbeatIntervalS: number;
  };
  links: {
    id: string;
    path: string;
    protocol: string;
    state: 'open' | 'closed';
  }[];
  devices: {
    id: string;
    kind: string;
    role: string;
    room?: string;
    link?: string;
    online: boolean;
    lastSeenAt?: string;
    battery?: number;
    batteryLow?: boolean;
    model?: string;
    firmware?: string;
  }[];
  /** Transmitters heard that nobody configured. */
  unpaired: UnpairedDevice[];
  alarms: {
    /** Not yet `stored` by the cloud: never published, or published without a `stored` ack so far. */
    outbox: { unsent: number; unacked: number };
    /** Condition alarms raised and not cleared, e.g. `device_offline:bed-radar`. */
    active: string[];
  };
  telemetry: {
    buffered: number;
    spooled: number;
    /** Readings lost since start (spool or memory full). */
    dropped: number;
    influx: {
      url: string;
      version: '1' | '2';
      state: 'ok' | 'failing';
      failingSince: string | null;
      consecutiveFailures: number;
      lastWriteAt: string | null;
    };
  };
  localBroker: { enabled: boolean; port: number };
  counters: Record<string, number>;
}

/** A URL without user name and password, for display. */
export function withoutUserInfo(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
