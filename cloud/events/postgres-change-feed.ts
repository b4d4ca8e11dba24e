import pg from 'pg';
import { Backoff } from '../../common/backoff.js';
import type { Logger } from '../../common/logger.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import type { AlarmChange } from '../alarms/alarm-events.js';
import type { ChangeFeed, ChangeListener, FeedEvents } from './change-feed.js';

/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; stay well under. */
const MAX_PAYLOAD_BYTES = 7_000;

/** The NOTIFY channel of one store: relays sharing a schema share a channel, test schemas stay apart. */
export function changeChannel(schema: string | undefined): string {
  return `homebed_alarm_changes_${schema ?? 'public'}`;
}

/**
 * Several relay processes on one PostgreSQL: every process NOTIFYs what it
 * committed and LISTENs on a connection of its own, so a console connected
 * to any process sees every change, its own included (one path for all).
 * A lost LISTEN connection is reopened with backoff; listeners are then
 * told to resync, because notifications sent meanwhile are gone.
 */
export class PostgresChangeFeed implements ChangeFeed {
  private readonly events: TypedEmitter<FeedEvents>;
  private readonly channel: string;
  private listener: pg.Client | null = null;
  private notifier: pg.Pool | null = null;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();
  private readonly backoff = new Backoff({ initialMs: 250, maxMs: 10_000 });

  constructor(
    private readonly connectionString: string,
    schema: string | undefined,
    private readonly logger: Logger,
  ) {
    const onError = (err: unknown) => logger.error({ err }, 'change listener failed');
    this.events = new TypedEmitter((_event, err) => onError(err));
    this.channel = changeChannel(schema);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.notifier = new pg.Pool({ connectionString: this.connectionString, max: 1 });
    this.notifier.on('error', () => undefined);
    // The first connection must work: a relay that cannot listen would show consoles a partial picture.
    this.listener = await this.listen();
  }

  private async listen(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      let changes: AlarmChange[];
      try {
        changes = JSON.parse(message.payload) as AlarmChange[];
      } catch (err) {
        this.logger.warn({ err }, 'unreadable change notification ignored');
        return;
      }
      for (const change of changes) this.events.emit('change', change);
    });
    const lost = (reason: string) => {
      if (this.listener !== client) return;
      this.listener = null;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.logger.warn({ reason }, 'change feed connection lost; reconnecting');
      this.reconnect();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection ended'));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (err) {
      client.end().catch(() => undefined);
      throw err;
    }
    return client;
  }

  /** Reopen the LISTEN connection with backoff; listeners resync once it is back. */
  private reconnect(): void {
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      try {
        const client = await this.listen();
        if (this.stopped) {
          await client.end().catch(() => undefined);
          return;
        }
        this.listener = client;
        this.backoff.reset();
        this.events.emit('resync', undefined);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'change feed reconnect failed');
        this.reconnect();
      }
    }, this.backoff.next());
  }

  announce(changes: readonly AlarmChange[]): void {
    const notifier = this.notifier;
    if (changes.length === 0 || !notifier) return;
    // One after another, so consoles hear a change's steps in commit order (acknowledged before resolved).
    for (const batch of batches(changes)) {
      this.sending = this.sending.then(() =>
        notifier
          .query('SELECT pg_notify($1, $2)', [this.channel, batch])
          .then(() => undefined)
          .catch((err: Error) => this.logger.warn({ err: err.message }, 'change notification not sent')),
      );
    }
  }

  subscribe(listener: ChangeListener): () => void {
    return this.events.on('change', listener);
  }

  onResync(listener: () => void): () => void {
    return this.events.on('resync', listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
    await this.sending;
    await this.notifier?.end().catch(() => undefined);
    this.notifier = null;
  }
}

/** JSON arrays each under the payload limit; a change too big alone loses its detail (consoles reload it). */
function batches(changes: readonly AlarmChange[]): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const change of changes) {
    let json = JSON.stringify(change);
    if (Buffer.byteLength(json) > MAX_PAYLOAD_BYTES)
      json = JSON.stringify({ ...change, detail: { truncated: true } });
    const bytes = Buffer.byteLength(json) + 1;
    if (current.length > 0 && size + bytes > MAX_PAYLOAD_BYTES) {
      out.push(`[${current.join(',')}]`);
      current = [];
      size = 2;
    }
    current.push(json);
    size += bytes;
  }
  if (current.length > 0) out.push(`[${current.join(',')}]`);
  return out;
}
