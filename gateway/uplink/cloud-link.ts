import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import { withTimeout } from '../../common/async.js';
import { backoffDelayMs } from '../../common/backoff.js';
import type { Counters } from '../../common/counters.js';
import { ConfigError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import {
  type AckMessage,
  ackMessageSchema,
  CONTRACT_VERSION,
  type CommandMessage,
  commandMessageSchema,
  encodePayload,
  type GatewayToCloudKind,
  gatewayTopic,
  parseGatewayTopic,
  parsePayload,
  statusMessageSchema,
} from '../../contract/index.js';

export interface CloudLinkOptions {
  url: string;
  gatewayId: string;
  secret: string;
  keepaliveS: number;
  connectTimeoutMs: number;
  /** First reconnect delay; doubles on every failed attempt up to `reconnectMaxMs`, ±20 % jitter. */
  reconnectPeriodMs: number;
  reconnectMaxMs?: number;
  /** `mqtts://`: PEM file of the CA that signed the relay's certificate; default the system's CAs. */
  caFile?: string | undefined;
  /** `mqtts://`: the name the relay's certificate must carry (and SNI); default the URL's host. */
  serverName?: string | undefined;
  random?: () => number;
}

/** Why a TLS connection to the cloud failed, as `cloud_tls_failures{reason}` counts it. */
export type CloudTlsFailureReason = 'expired' | 'untrusted' | 'hostname' | 'handshake';

const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
]);

/**
 * Sort a connection error into a TLS failure (null when it is not one), from the codes Node's TLS
 * gives: certificate dates, an issuer we do not trust, a name the certificate is not for, or a
 * handshake that failed before any certificate was checked.
 */
export function classifyTlsFailure(err: Error): CloudTlsFailureReason | null {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return null;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return 'expired';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') return 'hostname';
  if (UNTRUSTED_CODES.has(code)) return 'untrusted';
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') return 'handshake';
  // A plain MQTT port hangs up on a TLS ClientHello.
  if (code === 'ECONNRESET' && /before secure TLS connection/.test(err.message)) return 'handshake';
  return null;
}

/** Read the CA file at construction, so a wrong path stops the gateway before it starts, naming the file. */
function readCaFile(file: string): Buffer {
  const path = resolve(file);
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw new ConfigError(path, [`cloud.caFile: cannot read ${path} (${errorMessage(err)})`]);
  }
  try {
    if (!pem.includes('-----BEGIN CERTIFICATE-----'))
      throw new Error('no "-----BEGIN CERTIFICATE-----" line');
    createSecureContext({ ca: pem });
  } catch (err) {
    throw new ConfigError(path, [`cloud.caFile: ${path} is not a PEM CA certificate (${errorMessage(err)})`]);
  }
  return pem;
}

export interface CloudLinkEvents {
  connected: undefined;
  disconnected: undefined;
  ack: AckMessage;
  cmd: CommandMessage;
}

/**
 * The gateway's MQTT connection to the cloud relay. It owns the session
 * (persistent, so QoS 1 acks queued while we were away still arrive),
 * the retained `online` status and its `offline` last will, and validates
 * everything that comes down. It knows nothing about outboxes or rules.
 */
export class CloudLink {
  readonly events: TypedEmitter<CloudLinkEvents>;
  private client: MqttClient | null = null;
  private readonly ca: Buffer | undefined;
  /** mqtt.js reports a TLS stream's error twice (its TLS wrapper and its stream handler): count it once. */
  private readonly seenErrors = new WeakSet<Error>();

  constructor(
    private readonly options: CloudLinkOptions,
    private readonly logger: Logger,
    private readonly counters: Counters,
  ) {
    this.events = new TypedEmitter((event, err) =>
      logger.error({ err, event }, 'cloud link listener failed'),
    );
    this.ca = options.caFile ? readCaFile(options.caFile) : undefined;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** When the session was last set up (connected, subscribed, `online` said), ms since the epoch; null before. */
  get lastConnectedAtMs(): number | null {
    return this._lastConnectedAtMs;
  }

  /** When that session was last lost; null while it never was. */
  get lastDisconnectedAtMs(): number | null {
    return this._lastDisconnectedAtMs;
  }

  private _lastConnectedAtMs: number | null = null;
  private _lastDisconnectedAtMs: number | null = null;

  start(): void {
    const { gatewayId } = this.options;
    const client = mqtt.connect(this.options.url, {
      clientId: gatewayId,
      username: gatewayId,
      password: this.options.secret,
      protocolVersion: 4,
      clean: false,
      keepalive: this.options.keepaliveS,
      connectTimeout: this.options.connectTimeoutMs,
      reconnectPeriod: this.options.reconnectPeriodMs,
      // mqtts://: the relay's certificate is always verified (there is deliberately no switch to turn it off).
      rejectUnauthorized: true,
      ...(this.ca ? { ca: this.ca } : {}),
      ...(this.options.serverName ? { servername: this.options.serverName } : {}),
      will: {
        topic: gatewayTopic(gatewayId, 'status'),
        payload: Buffer.from(encodePayload(statusMessageSchema, { v: CONTRACT_VERSION, state: 'offline' })),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    // mqtt.js retries at a fixed period; a fleet of gateways reconnecting after a cloud outage must not
    // stampede, so the period grows with each failure (with jitter). Prepended: mqtt.js schedules its
    // reconnect in its own 'close' listener, which must see the new period.
    client.prependListener('close', () => {
      client.options.reconnectPeriod = this.nextReconnectDelay();
    });
    client.on('connect', (connack) => {
      this.reconnectAttempts = 0;
      // No Nagle on the alarm uplink (mqtt.js has no option for it): an alarm written while a heartbeat
      // is still unacknowledged must not wait for the relay's delayed ACK. Plain and TLS sockets both have it.
      (client.stream as { setNoDelay?: (noDelay: boolean) => unknown }).setNoDelay?.(true);
      this.logger.info(
        { url: this.options.url, sessionPresent: connack.sessionPresent },
        'connected to cloud',
      );
      this.counters.inc('cloud_connects');
      void this.onConnect(client);
    });
    client.on('close', () => {
      if (this.wasConnected) {
        this.wasConnected = false;
        this._lastDisconnectedAtMs = Date.now();
        this.logger.warn('cloud connection closed; reconnecting');
        this.events.emit('disconnected', undefined);
      }
    });
    client.on('error', (err) => {
      if (this.seenErrors.has(err)) return;
      this.seenErrors.add(err);
      this.counters.inc('cloud_errors');
      const tlsFailure = classifyTlsFailure(err);
      if (tlsFailure) {
        this.onTlsFailure(tlsFailure, err);
        return;
      }
      // Bad credentials are a configuration problem that retrying will not fix; say so plainly.
      const code = (err as { code?: number }).code;
      if (code === 4 || code === 5) {
        this.logger.error({ code }, 'cloud refused our credentials (check gatewayId and cloud.secret)');
      } else {
        this.logger.warn({ err: err.message }, 'cloud connection error');
      }
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  private wasConnected = false;
  private reconnectAttempts = 0;

  /** A certificate or handshake failure: the operator has something to fix; say what, count it, keep retrying. */
  private onTlsFailure(reason: CloudTlsFailureReason, err: Error): void {
    this.counters.inc('cloud_tls_failures', { reason });
    const serverName = this.options.serverName ?? hostOf(this.options.url);
    const check: Record<CloudTlsFailureReason, string> = {
      expired:
        'the relay’s certificate has expired or is not valid yet: renew it on the relay, and check this gateway’s clock',
      untrusted:
        'the relay’s certificate is not signed by a CA this gateway trusts: check that cloud.caFile is the CA that signed it (wrong CA?), and that the relay sends its intermediates',
      hostname: `the relay’s certificate is not issued for "${serverName}" (hostname mismatch): check cloud.serverName or the host in cloud.url against the certificate’s subjectAltName`,
      handshake:
        'TLS handshake failed: check that cloud.url points at the relay’s TLS port (mqtt.tls.port) and that both ends share a TLS version',
    };
    this.logger.error(
      {
        reason,
        code: (err as { code?: unknown }).code,
        err: err.message,
        url: this.options.url,
        serverName,
        caFile: this.options.caFile ?? '(system CAs)',
      },
      `cloud TLS connection refused: ${check[reason]}; retrying with backoff`,
    );
  }

  /** The delay before the next reconnect attempt (exported for tests through `reconnectDelays`). */
  nextReconnectDelay(): number {
    return backoffDelayMs(this.reconnectAttempts++, {
      initialMs: this.options.reconnectPeriodMs,
      maxMs: this.options.reconnectMaxMs ?? 60_000,
      random: this.options.random,
    });
  }

  private async onConnect(client: MqttClient): Promise<void> {
    const { gatewayId } = this.options;
    try {
      await client.subscribeAsync([gatewayTopic(gatewayId, 'ack'), gatewayTopic(gatewayId, 'cmd')], {
        qos: 1,
      });
      await client.publishAsync(
        gatewayTopic(gatewayId, 'status'),
        encodePayload(statusMessageSchema, {
          v: CONTRACT_VERSION,
          state: 'online',
          at: new Date().toISOString(),
        }),
        { qos: 1, retain: true },
      );
      this.wasConnected = true;
      this._lastConnectedAtMs = Date.now();
      this.events.emit('connected', undefined);
    } catch (err) {
      this.logger.warn(
        { err: (err as Error).message },
        'cloud session set-up failed; will retry on reconnect',
      );
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseGatewayTopic(topic);
    if (!parsed || parsed.gatewayId !== this.options.gatewayId) {
      this.counters.inc('cloud_messages_rejected', { reason: 'topic' });
      this.logger.warn({ topic }, 'message on an unexpected topic ignored');
      return;
    }
    if (parsed.kind === 'ack') {
      const result = parsePayload(ackMessageSchema, payload);
      if (!result.ok) {
        this.counters.inc('cloud_messages_rejected', { reason: 'schema' });
        this.logger.warn({ topic, error: result.error }, 'invalid ack from cloud ignored');
        return;
      }
      this.events.emit('ack', result.value);
      return;
    }
    if (parsed.kind === 'cmd') {
      const result = parsePayload(commandMessageSchema, payload);
      if (!result.ok) {
        this.counters.inc('cloud_messages_rejected', { reason: 'command' });
        this.logger.warn({ topic, error: result.error }, 'command not understood; ignored');
        return;
      }
      this.counters.inc('commands_received', { cmd: result.value.cmd });
      this.events.emit('cmd', result.value);
    }
  }

  /** Publish with QoS 1; resolves when the broker has acknowledged (PUBACK). */
  async publish(
    kind: GatewayToCloudKind,
    payload: string,
    options: { retain?: boolean } = {},
  ): Promise<void> {
    const client = this.client;
    if (!client?.connected) throw new Error('not connected to the cloud');
    await client.publishAsync(gatewayTopic(this.options.gatewayId, kind), payload, {
      qos: 1,
      retain: options.retain ?? false,
    });
  }

  /** Say `offline` ourselves (a clean disconnect does not fire the will), then close. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    this.wasConnected = false;
    if (client.connected) {
      try {
        await withTimeout(
          client.publishAsync(
            gatewayTopic(this.options.gatewayId, 'status'),
            encodePayload(statusMessageSchema, {
              v: CONTRACT_VERSION,
              state: 'offline',
              at: new Date().toISOString(),
            }),
            { qos: 1, retain: true },
          ),
          1_000,
          undefined,
        );
      } catch {
        // Best effort: the last will covers us if this does not get through.
      }
    }
    // A clean DISCONNECT (not a forced close), so the broker discards the last will: we already said offline.
    await withTimeout(client.endAsync(false), 2_000, undefined);
    if (!client.disconnected) await client.endAsync(true);
    this.events.removeAll();
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}
