import { HomebedError } from '../../common/errors.js';
import { loadGatewayConfig } from '../config/load.js';
import type { GatewayStatus } from '../ops/gateway-status.js';
import type { CommandOutput } from './commands.js';

export interface StatusCommandOptions {
  config?: string | undefined;
  url?: string | undefined;
  'timeout-ms'?: string | undefined;
}

const DEFAULT_OPS_URL = 'http://127.0.0.1:9464';
const DEFAULT_TIMEOUT_MS = 3_000;

/**
 * `status [--url <ops url>] [--config <file>]`: asks the running gateway's
 * ops server for `GET /status`; prints the JSON on stdout and a summary an
 * installer can read on stderr. The address (and bearer token) come from
 * the config's `ops` section when a config is given (`--config` or
 * HOMEBED_GATEWAY_CONFIG), else --url, else http://127.0.0.1:9464.
 * Throws `HB_GATEWAY_UNREACHABLE` (exit 1) when nothing answers.
 */
export async function runStatusCommand(
  options: StatusCommandOptions,
  out: CommandOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<GatewayStatus> {
  let base = options.url ?? DEFAULT_OPS_URL;
  let token: string | undefined;
  const configFile = options.config ?? env.HOMEBED_GATEWAY_CONFIG;
  if (configFile) {
    const { ops } = loadGatewayConfig(configFile, env);
    token = ops.token;
    if (!options.url) {
      if (!ops.enabled) {
        throw new HomebedError('HB_USAGE', `the ops server is off in ${configFile} (ops.enabled: false)`);
      }
      const host = ops.host === '0.0.0.0' || ops.host === '::' ? '127.0.0.1' : ops.host;
      base = `http://${host.includes(':') ? `[${host}]` : host}:${ops.port}`;
    }
  }
  const timeoutMs = options['timeout-ms'] ? Number(options['timeout-ms']) : DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw new HomebedError('HB_USAGE', '--timeout-ms must be a positive integer');
  }
  const url = new URL('/status', base).toString();
  let res: Response;
  try {
    res = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new HomebedError(
      'HB_GATEWAY_UNREACHABLE',
      `no answer from ${url} (${(err as Error).message}): is the gateway running, with ops.enabled, on that port?`,
    );
  }
  if (!res.ok) {
    throw new HomebedError('HB_GATEWAY_UNREACHABLE', `${url} answered ${res.status}: ${await res.text()}`);
  }
  const status = (await res.json()) as GatewayStatus;
  out.stdout(`${JSON.stringify(status, null, 2)}\n`);
  out.stderr(`${describeStatus(status)}\n`);
  return status;
}

/** A few lines for a person: what is connected, what is missing. */
export function describeStatus(s: GatewayStatus): string {
  const ago = (iso: string | null | undefined) =>
    iso ? `${Math.max(0, Math.round((Date.parse(s.now) - Date.parse(iso)) / 1000))} s ago` : 'never';
  const lines = [
    `gateway ${s.gatewayId} (bed ${s.bedId}), ${s.software}, up ${s.uptimeS} s`,
    `cloud ${s.cloud.url}: ${s.cloud.connected ? 'connected' : 'NOT connected'} (last connected ${ago(s.cloud.lastConnectedAt)}, last heartbeat ${ago(s.cloud.lastHeartbeatAt)})`,
    ...s.links.map((l) => `port ${l.id} (${l.protocol}, ${l.path}): ${l.state}`),
    ...s.devices.map(
      (d) =>
        `device ${d.id} (${d.kind}, ${d.role}): ${d.online ? 'online' : 'OFFLINE'}, last seen ${ago(d.lastSeenAt)}${d.battery === undefined ? '' : `, battery ${d.battery} %`}`,
    ),
    ...s.unpaired.map((u) => `unpaired ${u.transport} ${u.address}: heard ${u.count} times`),
    `alarms not yet stored by the cloud: ${s.alarms.outbox.unsent} unsent, ${s.alarms.outbox.unacked} awaiting ack`,
    `InfluxDB ${s.telemetry.influx.url}: ${s.telemetry.influx.state}, ${s.telemetry.buffered} buffered, ${s.telemetry.spooled} spooled, ${s.telemetry.dropped} dropped`,
  ];
  return lines.join('\n');
}
