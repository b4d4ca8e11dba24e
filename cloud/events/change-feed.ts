import { TypedEmitter } from '../../common/typed-emitter.js';
import type { AlarmChange, ChangeAnnouncer } from '../alarms/alarm-events.js';

export type ChangeListener = (change: AlarmChange) => void;

/**
 * Committed alarm changes, fanned out to every console on every relay
 * process. Delivery is best effort and at most once per listener: a
 * listener that may have missed changes (a reconnecting feed says so with
 * `onResync`) reads them back from `alarm_events`.
 */
export interface ChangeFeed extends ChangeAnnouncer {
  subscribe(listener: ChangeListener): () => void;
  /** Called when changes may have been missed (the feed's connection dropped and came back). */
  onResync(listener: () => void): () => void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What a feed tells its listeners; common/typed-emitter.ts keeps a throwing listener from stopping the others. */
export interface FeedEvents {
  change: AlarmChange;
  resync: undefined;
}

/**
 * One relay process (SQLite): changes go straight to this process's
 * listeners, on a later tick so a listener never runs inside the
 * announcer's call stack.
 */
export class LocalChangeFeed implements ChangeFeed {
  private readonly events: TypedEmitter<FeedEvents>;

  constructor(onListenerError: (err: unknown) => void = () => undefined) {
    this.events = new TypedEmitter((_event, err) => onListenerError(err));
  }

  announce(changes: readonly AlarmChange[]): void {
    if (changes.length === 0) return;
    setImmediate(() => {
      for (const change of changes) this.events.emit('change', change);
    });
  }

  subscribe(listener: ChangeListener): () => void {
    return this.events.on('change', listener);
  }

  onResync(listener: () => void): () => void {
    return this.events.on('resync', listener);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
