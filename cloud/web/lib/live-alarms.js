/**
 * The staff queue, kept live for a whole shift: the open alarms
 * (`GET /api/alarms?open=true`), the residents' names (`GET /api/beds`) and
 * every change from the event stream. One queue per page, shared by the shell
 * (connection indicator, alarm sound) and the views (queue, alarm page).
 *
 * Each (re)connection of the stream reloads the list, so an alarm raised while
 * the stream was down is there even when the replay could not reach back far enough.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, checkSession, openAlarmStream } from './api.js';

/** How often the list is reloaded anyway while the stream is up: a check on a long shift. */
const RELOAD_EVERY_MS = 60_000;

/**
 * @typedef {object} StoredAlarm (docs/api.md § Shapes)
 * @property {string} id
 * @property {string} gatewayId
 * @property {string} bedId
 * @property {string} type
 * @property {string} severity
 * @property {string} state
 * @property {string} at
 * @property {string} receivedAt
 * @property {string} [refersTo]
 * @property {string} [acknowledgedAt]
 * @property {string} [acknowledgedBy]
 * @property {string} [resolvedAt]
 * @property {string} [resolvedBy]
 * @property {string} [outcome]
 * @property {string} [notes]
 * @property {string} [message]
 * @property {Array<{ deviceId: string, kind: string, value?: unknown, at: string, raw?: string }>} evidence
 */

/**
 * @typedef {object} QueueItem
 * @property {StoredAlarm} alarm
 * @property {'cleared' | 'cancelled' | null} ended the gateway said the condition ended (still needs resolving)
 */

/**
 * @typedef {object} QueueSnapshot
 * @property {QueueItem[]} items open alarms, critical first, then oldest first
 * @property {Record<string, string>} residents bed id → resident name
 * @property {import('./api.js').StreamStatus} stream
 * @property {boolean} loaded the list was loaded at least once
 * @property {string | null} error the last load's problem, null when it worked
 */

const SEVERITY_ORDER = ['critical', 'warning', 'technical', 'info'];

/** Critical first, then by age (oldest first), then by id. @param {QueueItem} a @param {QueueItem} b */
export function queueOrder(a, b) {
  const rank = (/** @type {string} */ s) => {
    const i = SEVERITY_ORDER.indexOf(s);
    return i === -1 ? SEVERITY_ORDER.length : i;
  };
  return (
    rank(a.alarm.severity) - rank(b.alarm.severity) ||
    Date.parse(a.alarm.receivedAt) - Date.parse(b.alarm.receivedAt) ||
    (a.alarm.id < b.alarm.id ? -1 : 1)
  );
}

/** Whether an alarm still waits for a person. @param {StoredAlarm} alarm */
export const isOpen = (alarm) => alarm.state === 'raised' && !alarm.resolvedAt;

/** Whether the alarm should sound: critical and nobody took it yet. @param {QueueItem} item */
export const needsAttention = (item) => item.alarm.severity === 'critical' && !item.alarm.acknowledgedAt;

export class AlarmQueue {
  /** @type {Map<string, QueueItem>} */
  #items = new Map();
  /** @type {Record<string, string>} */
  #residents = {};
  /** Alarms known resolved: a slower, older answer must not put them back. @type {Set<string>} */
  #resolved = new Set();
  /** @type {import('./api.js').StreamStatus} */
  #stream = 'closed';
  #loaded = false;
  /** @type {string | null} */
  #error = null;
  /** @type {Set<(snapshot: QueueSnapshot) => void>} */
  #listeners = new Set();
  /** @type {Set<(change: import('./api.js').AlarmChange) => void>} */
  #changeListeners = new Set();
  /** @type {{ close: () => void, reconnect: () => void } | null} */
  #connection = null;
  /** @type {QueueSnapshot} */
  #snapshot;
  #loadSerial = 0;
  /** @type {ReturnType<typeof setInterval> | null} */
  #timer = null;
  /** @type {() => void} */
  #onOnline = () => this.#connection?.reconnect();

  constructor() {
    this.#snapshot = this.#makeSnapshot();
  }

  start() {
    if (this.#connection) return;
    this.#connection = openAlarmStream(
      (change) => this.#onChange(change),
      (status) => {
        this.#stream = status;
        this.#publish();
        if (status === 'open') void this.reload();
        // A stream that keeps failing may mean the session ended (the stream cannot say 401 to the page).
        if (status === 'reconnecting') void checkSession();
      },
    );
    globalThis.addEventListener?.('online', this.#onOnline);
    this.#timer = setInterval(() => void this.#check(), RELOAD_EVERY_MS);
  }

  stop() {
    this.#connection?.close();
    this.#connection = null;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    globalThis.removeEventListener?.('online', this.#onOnline);
  }

  /**
   * Reload the list while the stream says it is up; when the relay cannot be
   * reached at all, the stream is probably dead without knowing it: reconnect it.
   */
  async #check() {
    if (this.#stream !== 'open') return;
    const reachable = await this.reload();
    if (!reachable) this.#connection?.reconnect();
  }

  /** @returns {QueueSnapshot} */
  snapshot() {
    return this.#snapshot;
  }

  /**
   * @param {(snapshot: QueueSnapshot) => void} listener
   * @returns {() => void} unsubscribe
   */
  subscribe(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Every change the stream brings (each id once), e.g. for the alarm page to refresh itself.
   * @param {(change: import('./api.js').AlarmChange) => void} listener
   * @returns {() => void} unsubscribe
   */
  onChange(listener) {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /**
   * Load the open alarms (and which of them the gateway cleared) and the residents' names.
   * @returns {Promise<boolean>} false when the relay could not be reached
   */
  async reload() {
    const serial = ++this.#loadSerial;
    const [open, recent, beds] = await Promise.all([
      api.get('/api/alarms?open=true&limit=1000'),
      api.get('/api/alarms?limit=500'),
      api.get('/api/beds'),
    ]);
    if (serial !== this.#loadSerial) return true; // a newer load is on its way
    if (open.status !== 200) {
      this.#error = open.body?.message ?? `HTTP ${open.status}`;
      this.#publish();
      return open.status !== 0;
    }
    /** @type {Map<string, 'cleared' | 'cancelled'>} */
    const ended = new Map();
    if (recent.status === 200) {
      for (const a of /** @type {StoredAlarm[]} */ (recent.body.alarms)) {
        if (a.refersTo && (a.state === 'cleared' || a.state === 'cancelled')) ended.set(a.refersTo, a.state);
      }
    }
    const items = new Map();
    for (const alarm of /** @type {StoredAlarm[]} */ (open.body.alarms)) {
      if (this.#resolved.has(alarm.id)) continue;
      const before = this.#items.get(alarm.id);
      items.set(alarm.id, { alarm, ended: ended.get(alarm.id) ?? before?.ended ?? null });
    }
    this.#items = items;
    if (beds.status === 200) {
      /** @type {Record<string, string>} */
      const residents = {};
      for (const bed of beds.body.beds) residents[bed.id] = bed.residentName;
      this.#residents = residents;
    }
    this.#loaded = true;
    this.#error = null;
    this.#publish();
    return true;
  }

  /**
   * Put a fresh copy of one alarm in the queue (or take it out when it is no longer open).
   * @param {StoredAlarm} alarm
   */
  applyAlarm(alarm) {
    if (alarm.state !== 'raised') return;
    if (alarm.resolvedAt) this.#resolved.add(alarm.id);
    if (this.#resolved.has(alarm.id)) {
      if (this.#items.delete(alarm.id)) this.#publish();
      return;
    }
    const before = this.#items.get(alarm.id);
    if (isOpen(alarm)) this.#items.set(alarm.id, { alarm, ended: before?.ended ?? null });
    else this.#items.delete(alarm.id);
    this.#publish();
  }

  /** @param {import('./api.js').AlarmChange} change */
  async #onChange(change) {
    for (const listener of this.#changeListeners) {
      try {
        listener(change);
      } catch (err) {
        console.error('alarm change listener failed', err);
      }
    }
    // Notifications and escalations do not change what the queue shows.
    if (change.kind === 'notified' || change.kind === 'notification_failed' || change.kind === 'escalated')
      return;
    if (change.kind === 'resolved') {
      this.#resolved.add(change.alarmId);
      if (this.#items.delete(change.alarmId)) this.#publish();
      return;
    }
    if (change.kind === 'cleared' || change.kind === 'cancelled') {
      const item = this.#items.get(change.alarmId);
      if (item) {
        this.#items.set(change.alarmId, { ...item, ended: change.kind });
        this.#publish();
      }
    }
    const { status, body } = await api.get(`/api/alarms/${encodeURIComponent(change.alarmId)}`);
    if (status !== 200) return;
    if (!(body.alarm.bedId in this.#residents)) void this.#loadResident(body.alarm.bedId);
    this.applyAlarm(body.alarm);
  }

  /** @param {string} bedId */
  async #loadResident(bedId) {
    const { status, body } = await api.get(`/api/beds/${encodeURIComponent(bedId)}`);
    if (status !== 200) return;
    this.#residents = { ...this.#residents, [bedId]: body.bed.residentName };
    this.#publish();
  }

  /** @returns {QueueSnapshot} */
  #makeSnapshot() {
    return {
      items: [...this.#items.values()].sort(queueOrder),
      residents: this.#residents,
      stream: this.#stream,
      loaded: this.#loaded,
      error: this.#error,
    };
  }

  #publish() {
    this.#snapshot = this.#makeSnapshot();
    for (const listener of this.#listeners) listener(this.#snapshot);
  }
}

/** @type {AlarmQueue | null} */
let shared = null;

/** The page's queue, started on first use. */
export function sharedAlarmQueue() {
  if (!shared) {
    shared = new AlarmQueue();
    shared.start();
  }
  return shared;
}

/** Stop and forget the page's queue (at logout). */
export function stopSharedAlarmQueue() {
  shared?.stop();
  shared = null;
}

/**
 * The queue's current snapshot, re-rendering the component on each change.
 * @returns {QueueSnapshot}
 */
export function useAlarmQueue() {
  const queue = sharedAlarmQueue();
  const [snapshot, setSnapshot] = useState(queue.snapshot());
  useEffect(() => {
    setSnapshot(queue.snapshot());
    return queue.subscribe(setSnapshot);
  }, [queue]);
  return snapshot;
}

/**
 * A clock that ticks every `intervalMs` (ages in the queue).
 * @param {number} [intervalMs]
 * @returns {number} Date.now() of the last tick
 */
export function useNow(intervalMs = 1000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
