import { ManualClock } from '../../common/clock.js';
import { silentLogger } from '../../common/logger.js';
import { TypedEmitter } from '../../common/typed-emitter.js';
import type { AlarmMessage } from '../../contract/index.js';
import { type RulesConfig, rulesConfigSchema } from '../../gateway/config/rules-schema.js';
import type { DeviceConfig } from '../../gateway/config/schema.js';
import type { DeviceEvent, GatewayEvents } from '../../gateway/devices/device-event.js';
import { DeviceRegistry } from '../../gateway/devices/device-registry.js';
import { AlarmBook } from '../../gateway/rules/alarm-book.js';
import { DeadlineScheduler } from '../../gateway/rules/deadlines.js';
import { LatestState } from '../../gateway/rules/latest-state.js';
import { localParts, localToUtc } from '../../gateway/rules/local-time.js';
import type { BedMovement } from '../../gateway/rules/rule-context.js';
import { RuleEngine } from '../../gateway/rules/rule-engine.js';
import { openGatewayDb } from '../../gateway/store/gateway-db.js';
import type { MetricName, MetricValue } from '../../gateway/telemetry/reading.js';
import { AlarmOutbox } from '../../gateway/uplink/alarm-outbox.js';

export const TZ = 'Asia/Shanghai';

/** The home of the rule tests: one bed, every role. */
export const HOME: DeviceConfig[] = [
  { id: 'bed', kind: 'mr60bha1', role: 'bed_radar', room: 'bedroom', link: 'p1' },
  { id: 'floor', kind: 'mr60fda1', role: 'fall_radar', room: 'bathroom', link: 'p2' },
  { id: 'sos', kind: 'rf_button', role: 'sos_button', link: 'rf', address: 'EV1527:1:01' },
  { id: 'cancel', kind: 'rf_button', role: 'cancel_button', link: 'rf', address: 'EV1527:2:01' },
  { id: 'door', kind: 'rf_contact', role: 'front_door', link: 'rf', address: 'EV1527:3:01' },
  { id: 'pir', kind: 'rf_pir', role: 'pir', link: 'rf', address: 'EV1527:4:01' },
  { id: 'smoke', kind: 'rf_smoke', role: 'smoke', link: 'rf', address: 'EV1527:5:01' },
  { id: 'leak', kind: 'zigbee', role: 'water', address: 'leak' },
];

type Overrides = { [K in keyof RulesConfig]?: Partial<RulesConfig[K]> };

/**
 * Care rules on a manual clock and a real (in-memory or file) SQLite store,
 * driven by readings and events as the devices would send them. `restart()`
 * throws away every in-memory object and builds new ones on the same store,
 * as a gateway killed and started again would.
 */
export class RuleHarness {
  readonly clock: ManualClock;
  bus!: TypedEmitter<GatewayEvents>;
  private engine!: RuleEngine;
  private outbox!: AlarmOutbox;
  private db!: ReturnType<typeof openGatewayDb>;
  private readonly rules: RulesConfig;
  /** Bed exits and returns the rules reported for the cloud's timeline. */
  readonly events: BedMovement[] = [];

  constructor(
    startLocal: string,
    overrides: Overrides = {},
    private readonly dataDir = ':memory:',
  ) {
    this.clock = new ManualClock(parseLocal(startLocal));
    const merged: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(overrides)) merged[k] = v;
    this.rules = rulesConfigSchema.parse(merged);
    this.build();
  }

  private build(): void {
    this.db = openGatewayDb(this.dataDir);
    this.bus = new TypedEmitter<GatewayEvents>((_event, err) => {
      throw err;
    });
    const registry = new DeviceRegistry(HOME, this.clock);
    this.outbox = new AlarmOutbox(this.db, { gatewayId: 'gw', bedId: 'bed-1' });
    const raise = (d: Parameters<AlarmOutbox['commit']>[0]) => this.outbox.commit(d);
    const book = new AlarmBook(this.db, raise);
    const deadlines = new DeadlineScheduler(this.db, this.clock, silentLogger(), () => book.resync());
    this.engine = new RuleEngine(
      {
        bus: this.bus,
        clock: this.clock,
        registry,
        book,
        deadlines,
        state: new LatestState(this.db),
        raise,
        rules: this.rules,
        timeZone: TZ,
        logger: silentLogger(),
        emitEvent: (e) => this.events.push(e),
      },
      deadlines,
    );
    this.engine.start();
  }

  /** Simulate a crash: drop every in-memory object, keep the store, start again (time does not move). */
  restart(): void {
    this.engine.stop();
    if (this.dataDir !== ':memory:') this.db.close();
    else throw new Error('restart needs a file store: pass a dataDir');
    this.build();
  }

  stop(): void {
    this.engine.stop();
    this.db.close();
  }

  reading(deviceId: string, metric: MetricName, value: MetricValue): this {
    this.bus.emit('reading', { deviceId, metric, value, atMs: this.clock.now() });
    return this;
  }

  event(deviceId: string, kind: DeviceEvent['kind'] = 'button_press'): this {
    this.bus.emit('deviceEvent', { deviceId, kind, atMs: this.clock.now(), raw: 'test' });
    return this;
  }

  advance(ms: number): this {
    this.clock.advance(ms);
    return this;
  }

  /** Advance to a local time (HH:MM or HH:MM:SS), today or tomorrow, whichever comes first. */
  until(hhmm: string): this {
    const [h, m, s] = hhmm.split(':').map(Number);
    const p = localParts(this.clock.now(), TZ);
    let target = localToUtc(TZ, p.year, p.month, p.day, h!, m!, s ?? 0);
    if (target < this.clock.now()) target += 24 * 3600_000;
    this.clock.advance(target - this.clock.now());
    return this;
  }

  all(): AlarmMessage[] {
    return this.outbox.all();
  }

  /** `type:state@HH:MM:SS` per committed alarm, local time. */
  summary(): string[] {
    return this.all().map((a) => {
      const p = localParts(Date.parse(a.at), TZ);
      const t = [p.hour, p.minute, p.second].map((n) => String(n).padStart(2, '0')).join(':');
      return `${a.type}:${a.state}@${t}`;
    });
  }
}

/** `2026-11-23 21:00` (local, Asia/Shanghai) → epoch ms. */
export function parseLocal(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!m) throw new Error(`bad local time ${text}`);
  const [, y, mo, d, h, mi, s] = m;
  return localToUtc(TZ, Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s ?? 0));
}
