import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloudConfigSchema } from '../../cloud/config/schema.js';
import { RecordingPhoneProvider } from '../../cloud/notifications/phone-channel.js';
import type { EmergencyContact } from '../../cloud/people/model.js';
import { Relay } from '../../cloud/relay.js';
import { systemClock } from '../../common/clock.js';
import { uuidv7 } from '../../common/ids.js';
import { type Logger, silentLogger } from '../../common/logger.js';
import type { AlarmMessage } from '../../contract/index.js';

/**
 * Pieces shared by the monitoring-centre end-to-end tests (test/integration/cloud/monitoring-centre.test.ts,
 * authorization.test.ts): a relay configured like a real centre (escalation, liveness, notifications
 * with a RecordingPhoneProvider), organisations/beds/gateways seeded through the relay's own
 * repositories, an HTTP helper for any method, and a TCP proxy that can cut a gateway's network.
 */

/** Sections of the cloud configuration a test may set (raw input: the schema fills the defaults). */
export interface MonitoringCentreOptions {
  escalation?: Record<string, unknown>;
  liveness?: Record<string, unknown>;
  notifications?: Record<string, unknown>;
  auth?: Record<string, unknown>;
  logger?: Logger;
}

export interface MonitoringCentre {
  relay: Relay;
  /** Every SMS and call the relay would have sent (nothing leaves the machine). */
  phone: RecordingPhoneProvider;
  dataDir: string;
  stop: () => Promise<void>;
}

/** A real relay (embedded aedes, SQLite, HTTP on free ports) with the given configuration sections. */
export async function startMonitoringCentre(
  options: MonitoringCentreOptions = {},
): Promise<MonitoringCentre> {
  const dataDir = mkdtempSync(join(tmpdir(), 'homebed-centre-'));
  const config = cloudConfigSchema.parse({
    dataDir,
    mqtt: { port: 0 },
    http: { port: 0 },
    ...(options.escalation ? { escalation: options.escalation } : {}),
    ...(options.liveness ? { liveness: options.liveness } : {}),
    ...(options.notifications ? { notifications: options.notifications } : {}),
    ...(options.auth ? { auth: options.auth } : {}),
  });
  const phone = new RecordingPhoneProvider();
  const relay = new Relay({ config, clock: systemClock, logger: options.logger ?? silentLogger(), phone });
  await relay.start();
  return {
    relay,
    phone,
    dataDir,
    stop: async () => {
      await relay.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A bed with its resident and a provisioned gateway linked to it (the relay's repositories, as the CLI does). */
export async function seedBed(
  relay: Relay,
  bed: {
    organisationId: string;
    bedId: string;
    gatewayId: string;
    residentName: string;
    address?: string;
    contacts?: EmergencyContact[];
  },
): Promise<{ secret: string }> {
  await relay.services.beds.add({
    id: bed.bedId,
    organisationId: bed.organisationId,
    residentName: bed.residentName,
    address: bed.address ?? '上海市徐汇区漕溪北路 88 弄 3 号 502 室',
    contacts: bed.contacts ?? [],
    state: 'active',
  });
  const { secret } = await relay.gateways.add(bed.gatewayId);
  await relay.services.beds.linkGateway(bed.gatewayId, bed.bedId);
  return { secret };
}

/** A raised SOS as a gateway sends it (for raw MQTT clients). */
export function sosAlarm(gatewayId: string, bedId: string, seq: number): AlarmMessage {
  const at = new Date().toISOString();
  return {
    v: 1,
    id: uuidv7(),
    gatewayId,
    bedId,
    seq,
    type: 'sos_button',
    severity: 'critical',
    state: 'raised',
    at,
    deviceId: 'sos',
    evidence: [{ deviceId: 'sos', kind: 'button_press', at }],
  };
}

export interface HttpResult<T> {
  status: number;
  body: T;
}

/**
 * One HTTP request to the relay: `token` as a Bearer token (null: anonymous), a JSON body when given.
 * The body is parsed as JSON when there is one (a 204 has none: `null`).
 */
export async function request<T = Record<string, unknown>>(
  httpUrl: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
): Promise<HttpResult<T>> {
  const res = await fetch(`${httpUrl}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

/**
 * A TCP proxy between a gateway and the relay's MQTT port: `cut()` destroys every proxied connection
 * (as a failed home router would: no DISCONNECT, so the broker publishes the gateway's last will) and
 * refuses new ones until `restore()`.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private refusing = false;
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    const server = createServer((inbound) => {
      if (this.refusing) {
        inbound.destroy();
        return;
      }
      const outbound = tcpConnect(this.targetPort, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || !address) throw new Error('proxy has no port');
    this.port = address.port;
    this.server = server;
    return this;
  }

  /** Drop every connection abruptly and refuse new ones. */
  cut(): void {
    this.refusing = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.refusing = false;
  }

  async stop(): Promise<void> {
    this.cut();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
