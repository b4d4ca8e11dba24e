import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import type { TypedEmitter } from '../../common/typed-emitter.js';
import type { AlarmMessage, Evidence } from '../../contract/index.js';
import type { RulesConfig } from '../config/rules-schema.js';
import type { DeviceConfig } from '../config/schema.js';
import type { GatewayEvents } from '../devices/device-event.js';
import type { DeviceRole } from '../devices/device-kinds.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import type { Reading } from '../telemetry/reading.js';
import type { AlarmDraft } from '../uplink/alarm-outbox.js';
import type { AlarmBook } from './alarm-book.js';
import type { DeadlineScheduler } from './deadlines.js';
import type { LatestState } from './latest-state.js';
import { inDailyWindow } from './local-time.js';

/** Everything a care rule may use; rules get it injected and own nothing else. */
export interface RuleContext {
  bus: TypedEmitter<GatewayEvents>;
  clock: Clock;
  registry: DeviceRegistry;
  /** Condition alarms (raised once, cleared, cancelled), persisted. */
  book: AlarmBook;
  /** Persisted timers. */
  deadlines: DeadlineScheduler;
  /** Last known in-bed / door / fall state, persisted. */
  state: LatestState;
  /** One-shot alarms that have no "cleared" (SOS): straight to the outbox. */
  raise: (draft: AlarmDraft) => AlarmMessage;
  rules: RulesConfig;
  timeZone: string;
  logger: Logger;
  /** Notable non-alarm events for the cloud's `event` topic (bed exit and return). */
  emitEvent?: (event: BedMovement) => void;
}

/** A bed exit or return, for the cloud's timeline. */
export interface BedMovement {
  kind: 'bed_exit' | 'bed_return';
  deviceId: string;
  atMs: number;
  outOfBedS?: number;
}

/** A care rule: a state machine over the bus with a lifecycle. */
export interface CareRule {
  readonly name: string;
  start(): void;
  stop(): void;
}

/** Base with the listener bookkeeping every rule needs. */
export abstract class BaseRule implements CareRule {
  abstract readonly name: string;
  private offs: (() => void)[] = [];

  constructor(protected readonly ctx: RuleContext) {}

  abstract start(): void;

  stop(): void {
    for (const off of this.offs) off();
    this.offs = [];
  }

  protected listen<K extends keyof GatewayEvents>(
    event: K,
    listener: (payload: GatewayEvents[K]) => void,
  ): void {
    this.offs.push(this.ctx.bus.on(event, listener));
  }

  protected role(deviceId: string): DeviceRole | undefined {
    return this.ctx.registry.get(deviceId)?.role;
  }

  protected devicesWithRole(role: DeviceRole): DeviceConfig[] {
    return this.ctx.registry.all().filter((d) => d.role === role);
  }

  protected atNight(ms: number): boolean {
    const { start, end } = this.ctx.rules.nightWindow;
    return inDailyWindow(ms, this.ctx.timeZone, start, end);
  }

  protected iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  protected evidence(r: Reading): Evidence {
    return { deviceId: r.deviceId, kind: r.metric, value: r.value, at: this.iso(r.atMs) };
  }

  protected room(deviceId: string): string {
    const room = this.ctx.registry.get(deviceId)?.room;
    return room ? ` (${room})` : '';
  }
}
