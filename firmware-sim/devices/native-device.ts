import type { z } from 'zod';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { HomebedError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import {
  type NativeAvailability,
  type NativeEvent,
  type NativeState,
  nativeAvailabilitySchema,
  nativeDeviceTopic,
  nativeEventSchema,
  nativeStateSchema,
} from '../../contract/native-device.js';
import { BatteryDrain } from '../faults.js';
import { type MqttConnectFn, type SimMqttConfig, SimMqttConnection } from '../links/mqtt-client.js';

/**
 * The properties of a native device's state that a scenario may set: the
 * contract's state without its envelope (`v`, `at`), every field optional.
 */
export const nativeStatePatchSchema = nativeStateSchema.omit({ v: true, at: true }).partial();
export type NativeStatePatch = z.output<typeof nativeStatePatchSchema>;

/** What a native device can do: report state, send an event, go on- or offline. */
export interface NativeUpdate {
  state?: NativeStatePatch;
  event?: NativeEvent['action'];
  availability?: NativeAvailability['state'];
}

/** One emulated native device (see `config.ts`). */
export interface NativeDeviceSpec {
  /** Device id in the topics (`homebed/v1/dev/<id>/…`). */
  id: string;
  /** State at start, published on every connection. */
  state: NativeStatePatch;
  /** Re-send the state this often (the device's supervision heartbeat); 0 = never. */
  stateIntervalMs: number;
  /** Each state report (on connection and periodic) carries the next value of a wrapping counter in this property (chaos tests). */
  sequenceIn?: 'heart_rate' | 'breath_rate';
}

export interface NativeDeviceOptions {
  mqtt: SimMqttConfig;
  /** MQTT client id; default `homebed-sim-native-<id>`. */
  clientId?: string;
  clock: Clock;
  spec: NativeDeviceSpec;
  /** battery_low becomes true at or below this level while the battery drains; default 20 %. */
  batteryLowPercent?: number;
  connect?: MqttConnectFn;
  logger?: Logger;
}

/** A message the contract's schema refuses (the emulator never publishes one). */
export class NativeContractError extends HomebedError {
  constructor(message: string) {
    super('HB_SIM_NATIVE_CONTRACT', message);
  }
}

/** What was published for one update, in order. */
export interface NativePublished {
  topic: string;
  payload: unknown;
}

const DEFAULT_LOW_PERCENT = 20;

/**
 * A device speaking the project's native JSON contract over MQTT
 * (contract/native-device.ts): `homebed/v1/dev/<id>/availability` (retained,
 * with an `offline` last will), `…/state` and `…/event`. Every message is
 * validated with the contract's schema before it is published.
 */
export class NativeDeviceEmulator {
  private connection: SimMqttConnection | undefined;
  private current: NativeStatePatch;
  private online = true;
  private timer: TimerHandle | undefined;
  private drain: BatteryDrain | undefined;
  private events = 0;
  private eventsDelivered = 0;
  private statesDelivered = 0;

  constructor(private readonly options: NativeDeviceOptions) {
    this.current = { ...options.spec.state };
  }

  get id(): string {
    return this.options.spec.id;
  }

  get connected(): boolean {
    return this.connection?.connected ?? false;
  }

  /** Connect (retrying until the broker is there); on each connection: online, then the state. */
  start(): void {
    if (this.connection) return;
    this.connection = new SimMqttConnection({
      config: this.options.mqtt,
      clientId: this.options.clientId ?? `homebed-sim-native-${this.id}`,
      will: {
        topic: nativeDeviceTopic(this.id, 'availability'),
        payload: JSON.stringify(this.availabilityMessage('offline')),
        retain: true,
        qos: 1,
      },
      onConnect: () => {
        this.publishAvailability();
        if (this.online) this.publishState();
      },
      connect: this.options.connect,
      logger: this.options.logger,
    });
    this.connection.start();
    const every = this.options.spec.stateIntervalMs;
    if (every > 0) {
      this.timer = this.options.clock.setInterval(() => {
        if (this.online) this.publishState();
      }, every);
    }
  }

  /** Resolves once connected to the broker (for tests). */
  async waitConnected(timeoutMs?: number): Promise<void> {
    if (!this.connection) throw new Error(`native device ${this.id} not started`);
    await this.connection.waitConnected(timeoutMs);
  }

  /** Say `offline` (a clean switch-off), disconnect, cancel timers. Idempotent. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    this.drain?.stop();
    this.drain = undefined;
    const connection = this.connection;
    this.connection = undefined;
    await connection?.stop([
      {
        topic: nativeDeviceTopic(this.id, 'availability'),
        payload: JSON.stringify(this.availabilityMessage('offline')),
        options: { retain: true, qos: 1 },
      },
    ]);
  }

  /**
   * Apply an update: availability first, then the state (merged into the current state and sent
   * whole), then the event. Returns what was published.
   *
   * @throws NativeContractError when a message would not match the contract (nothing is published then).
   */
  update(update: NativeUpdate): NativePublished[] {
    const messages: NativePublished[] = [];
    const at = new Date(this.options.clock.now()).toISOString();
    // Build and validate everything before publishing anything.
    const availability = update.availability ? this.availabilityMessage(update.availability) : undefined;
    const nextState = update.state ? { ...this.current, ...definedOnly(update.state) } : undefined;
    const stateMessage = nextState ? this.stateMessage(nextState, at) : undefined;
    const event = update.event
      ? validate(nativeEventSchema, { v: 1, at, action: update.event }, 'event')
      : undefined;

    if (availability) {
      this.online = availability.state === 'online';
      messages.push(this.publishAvailability());
    }
    if (nextState && stateMessage) {
      this.current = nextState;
      messages.push(this.publish('state', stateMessage, 1));
    }
    if (event) {
      this.events++;
      messages.push(
        this.publish('event', event, 1, false, () => {
          this.eventsDelivered++;
        }),
      );
    }
    return messages;
  }

  /** Run the battery down at `percentPerMinute` (0 stops it), sending the state at each whole percent. */
  setDyingBattery(percentPerMinute: number, tickMs?: number): void {
    this.drain?.stop();
    this.drain = undefined;
    if (percentPerMinute <= 0) return;
    const lowAt = this.options.batteryLowPercent ?? DEFAULT_LOW_PERCENT;
    this.drain = new BatteryDrain({
      clock: this.options.clock,
      fromPercent: this.current.battery ?? 100,
      percentPerMinute,
      tickMs,
      onLevel: (level) => {
        const percent = Math.round(level);
        if (percent === this.current.battery) return;
        this.update({ state: { battery: percent, battery_low: percent <= lowAt } });
      },
    });
    this.drain.start();
  }

  state(): {
    id: string;
    connected: boolean;
    online: boolean;
    state: NativeStatePatch;
    dyingBattery: boolean;
    eventsSent: number;
    /** Events the gateway's broker has acknowledged (PUBACK); the rest are still being retried. */
    eventsDelivered: number;
    /** State reports (on connection and periodic) the gateway's broker has acknowledged. */
    statesDelivered: number;
    messagesPublished: number;
  } {
    return {
      id: this.id,
      connected: this.connected,
      online: this.online,
      state: { ...this.current },
      dyingBattery: this.drain !== undefined,
      eventsSent: this.events,
      eventsDelivered: this.eventsDelivered,
      statesDelivered: this.statesDelivered,
      messagesPublished: this.connection?.messagesPublished ?? 0,
    };
  }

  private availabilityMessage(state: NativeAvailability['state']): NativeAvailability {
    return validate(nativeAvailabilitySchema, { v: 1, state }, 'availability');
  }

  private stateMessage(state: NativeStatePatch, at: string): NativeState {
    return validate(nativeStateSchema, { v: 1, at, ...state }, 'state');
  }

  private publishAvailability(): NativePublished {
    return this.publish(
      'availability',
      this.availabilityMessage(this.online ? 'online' : 'offline'),
      1,
      true,
    );
  }

  /** The current state, as on connection and every `stateIntervalMs`; each carries the next counter value. */
  private publishState(): NativePublished {
    const at = new Date(this.options.clock.now()).toISOString();
    const counter = this.options.spec.sequenceIn;
    if (counter) this.current = { ...this.current, [counter]: ((this.current[counter] ?? -1) + 1) % 256 };
    return this.publish('state', this.stateMessage(this.current, at), 1, false, () => {
      this.statesDelivered++;
    });
  }

  private publish(
    kind: 'state' | 'event' | 'availability',
    payload: unknown,
    qos: 0 | 1,
    retain = false,
    onDelivered?: () => void,
  ): NativePublished {
    const topic = nativeDeviceTopic(this.id, kind);
    this.connection?.publish(topic, JSON.stringify(payload), { qos, retain }, onDelivered);
    return { topic, payload };
  }
}

function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`);
    throw new NativeContractError(
      `native ${what} message does not match the contract: ${problems.join('; ')}`,
    );
  }
  return result.data;
}

function definedOnly<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}
