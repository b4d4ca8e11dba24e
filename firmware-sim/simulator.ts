import { resolve } from 'node:path';
import type { Clock } from '../common/clock.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type {
  FallRadarDeviceConfig,
  RadarDeviceConfig,
  RflinkDeviceConfig,
  SimConfig,
  SimDeviceConfig,
} from './config.js';
import {
  ControlRequestError,
  ControlServer,
  type ControlTarget,
  type FallRadarAction,
  type FaultPatch,
  type NativeRequest,
  type RadarPatch,
  type TargetKind,
  type ZigbeeRequest,
} from './control-server.js';
import { Mr60bha1Emulator, type Mr60bha1ReportIntervals, type Mr60bha1State } from './devices/mr60bha1.js';
import { Mr60fda1Emulator, type Mr60fda1ReportIntervals, type Mr60fda1State } from './devices/mr60fda1.js';
import { NativeContractError, NativeDeviceEmulator } from './devices/native-device.js';
import {
  type RfAction,
  RfActionError,
  RfTransmitter,
  type RfTransmitterState,
} from './devices/rf-transmitter.js';
import { RflinkEmulator } from './devices/rflink-receiver.js';
import { Zigbee2mqttEmulator, ZigbeeRequestError } from './devices/zigbee2mqtt.js';
import { type FaultStats, FaultyLink, resolveRate, type SerialFaults } from './faults.js';
import { type SimMqttConfig, withoutCredentials } from './links/mqtt-client.js';
import { createPtyPair, type PtyPair } from './links/pty.js';
import { SerialPortLink } from './links/serial-port-link.js';
import { mixSeed, seededRandom } from './random.js';

export interface SimulatorDeps {
  /** Drives every report and repeat; the system clock in production, a manual one in tests. */
  clock: Clock;
  logger: Logger;
  /** The `socat` binary; default `socat` from `PATH`. */
  socatPath?: string;
  /** Base for relative device paths; default `process.cwd()` (the repo root under `npm run sim`). */
  cwd?: string;
  /**
   * Periodic report intervals for every radar of a kind, over the vendor's (unset fields keep them).
   * Scenario runs on a manual clock lengthen them so a simulated night is not a million frames.
   */
  reportIntervals?: {
    mr60bha1?: Partial<Omit<Mr60bha1ReportIntervals, 'observationSetupMs'>>;
    mr60fda1?: Partial<Mr60fda1ReportIntervals>;
  };
}

/** Where one emulated serial device can be reached. */
export interface SimulatorDeviceInfo {
  id: string;
  kind: 'mr60bha1' | 'mr60fda1' | 'rflink';
  /** The path the gateway opens. */
  hostPath: string;
  /** The path the emulator holds open. */
  devicePath: string;
  baudRate: number;
  /** Process id of the socat holding the PTY pair (undefined while unplugged). */
  socatPid: number | undefined;
  /** False between `unplug` and `replug`. */
  plugged: boolean;
}

export interface SimulatorInfo {
  controlUrl: string;
  devices: SimulatorDeviceInfo[];
}

interface SerialEntryBase {
  /** Absolute paths of the PTY symlinks. */
  devicePath: string;
  hostPath: string;
  pty?: PtyPair;
  link?: SerialPortLink;
  /** What the emulator writes to; forwards to `link` and injects faults. */
  faulty: FaultyLink;
  plugged: boolean;
  /** Unplug/replug of one device run one after the other. */
  busy: Promise<unknown>;
}

interface RadarEntry extends SerialEntryBase {
  kind: 'mr60bha1';
  config: RadarDeviceConfig;
  emulator: Mr60bha1Emulator;
}

interface FallRadarEntry extends SerialEntryBase {
  kind: 'mr60fda1';
  config: FallRadarDeviceConfig;
  emulator: Mr60fda1Emulator;
}

interface RflinkEntry extends SerialEntryBase {
  kind: 'rflink';
  config: RflinkDeviceConfig;
  emulator: RflinkEmulator;
  transmitters: Map<string, RfTransmitter>;
}

type Entry = RadarEntry | FallRadarEntry | RflinkEntry;

/**
 * The whole simulator: for each configured serial device a PTY pair (socat),
 * the device end opened with `serialport`, a fault injector and an emulator
 * writing the vendor's bytes; the zigbee2mqtt and native-device emulators on
 * the gateway's MQTT broker (when `mqtt.url` is set); and the HTTP control
 * API. `start()` builds it all (and undoes what it built if a step fails);
 * `stop()` releases every PTY, port, MQTT connection, timer and socket.
 */
export class Simulator implements ControlTarget {
  private entries: Entry[] = [];
  private z2m: Zigbee2mqttEmulator | undefined;
  private natives = new Map<string, NativeDeviceEmulator>();
  private control: ControlServer | undefined;
  private started = false;

  constructor(
    private readonly config: SimConfig,
    private readonly deps: SimulatorDeps,
  ) {}

  /** Create the PTYs, open the device ends, start the emulators, then the control API. */
  async start(): Promise<SimulatorInfo> {
    if (this.started) return this.info();
    this.started = true;
    const { logger } = this.deps;
    const { devices, zigbee2mqtt, native } = this.config;
    if (devices.length === 0 && zigbee2mqtt.devices.length === 0 && native.devices.length === 0) {
      logger.warn('no devices configured: only the control API will run');
    }
    try {
      for (const device of devices) await this.startDevice(device);
      this.startMqttEmulators();
      const control = new ControlServer({
        host: this.config.control.host,
        port: this.config.control.port,
        target: this,
        logger: logger.child({ component: 'control' }),
      });
      this.control = control;
      await control.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
    return this.info();
  }

  /** Stop the API, the emulators (timers), close the ports, MQTT and kill socat. Idempotent; never throws. */
  async stop(): Promise<void> {
    const control = this.control;
    this.control = undefined;
    const entries = this.entries;
    this.entries = [];
    const zigbee = this.z2m;
    this.z2m = undefined;
    const natives = [...this.natives.values()];
    this.natives.clear();
    const wasStarted = this.started;
    this.started = false;
    const failures: string[] = [];
    const attempt = async (what: string, fn: () => Promise<void> | void): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        failures.push(`${what}: ${errorMessage(err)}`);
      }
    };
    if (control) await attempt('control server', () => control.stop());
    // Let an unplug/replug in flight finish first, so neither its PTY nor a restarted emulator is left behind.
    await Promise.all(entries.map((entry) => entry.busy.catch(() => {})));
    for (const entry of entries) {
      entry.emulator.stop();
      if (entry.kind === 'rflink') for (const tx of entry.transmitters.values()) tx.stop();
    }
    await Promise.all([
      ...entries.map(async (entry) => {
        entry.faulty.attach(null);
        await attempt(`${entry.config.id} port`, () => entry.link?.close());
        await attempt(`${entry.config.id} pty`, () => entry.pty?.close());
      }),
      ...(zigbee ? [attempt('zigbee2mqtt', () => zigbee.stop())] : []),
      ...natives.map((n) => attempt(`native ${n.id}`, () => n.stop())),
    ]);
    if (failures.length) this.deps.logger.warn({ failures }, 'simulator stopped with errors');
    else if (wasStarted) this.deps.logger.info('simulator stopped');
  }

  /** Paths and URL, for the `simulator ready` line and for tests. */
  info(): SimulatorInfo {
    return {
      controlUrl: this.control?.url ?? '',
      devices: this.entries.map((e) => ({
        id: e.config.id,
        kind: e.kind,
        hostPath: e.hostPath,
        devicePath: e.devicePath,
        baudRate: e.config.baudRate,
        socatPid: e.plugged ? e.pty?.pid : undefined,
        plugged: e.plugged,
      })),
    };
  }

  /** The zigbee2mqtt emulator, when running (for tests). */
  get zigbee2mqtt(): Zigbee2mqttEmulator | undefined {
    return this.z2m;
  }

  /** A native device emulator, when running (for tests). */
  nativeDevice(id: string): NativeDeviceEmulator | undefined {
    return this.natives.get(id);
  }

  // ---- control API ---------------------------------------------------------------------------

  press(name: string): { pressed: string; lines: number } | null {
    const found = this.transmitter(name);
    if (found?.tx.spec.kind !== 'button') return null;
    const parts = found.tx.packet('press');
    const lines = parts ? found.entry.emulator.transmit(parts, found.tx.spec.repeats) : 0;
    return { pressed: name, lines };
  }

  buttonNames(): string[] {
    return this.allTransmitters()
      .filter((t) => t.kind === 'button')
      .map((t) => t.name);
  }

  names(kind: TargetKind): string[] {
    const serial = this.config.devices;
    const zigbee = this.config.zigbee2mqtt.devices.map((d) => d.friendlyName);
    const native = this.config.native.devices.map((d) => d.id);
    const rf = this.allTransmitters().map((t) => t.name);
    switch (kind) {
      case 'button':
        return this.buttonNames();
      case 'rf':
        return rf;
      case 'radar':
        return serial.filter((d) => d.kind === 'mr60bha1').map((d) => d.id);
      case 'fall-radar':
        return serial.filter((d) => d.kind === 'mr60fda1').map((d) => d.id);
      case 'zigbee':
        return zigbee;
      case 'native':
        return native;
      case 'serial':
        return serial.map((d) => d.id);
      case 'fault':
        return [...serial.map((d) => d.id), ...rf, ...zigbee, ...native];
    }
  }

  rf(
    name: string,
    action: RfAction,
  ): {
    name: string;
    kind: string;
    action: RfAction;
    lines: number;
    packet: string | null;
    transmitter: RfTransmitterState;
  } | null {
    const found = this.transmitter(name);
    if (!found) return null;
    let parts: string[] | null;
    try {
      parts = found.tx.packet(action);
    } catch (err) {
      if (err instanceof RfActionError) throw new ControlRequestError(400, 'invalid_action', err.message);
      throw err;
    }
    const lines = parts ? found.entry.emulator.transmit(parts, found.tx.spec.repeats) : 0;
    return {
      name,
      kind: found.tx.spec.kind,
      action,
      lines,
      packet: parts ? `${parts.join(';')};` : null,
      transmitter: found.tx.state(),
    };
  }

  rfBattery(name: string, state: 'ok' | 'low'): RfTransmitterState | null {
    return this.transmitter(name)?.tx.setBattery(state) ?? null;
  }

  fallRadar(id: string, action: FallRadarAction): Mr60fda1State | null {
    const entry = this.entries.find((e): e is FallRadarEntry => e.kind === 'mr60fda1' && e.config.id === id);
    if (!entry) return null;
    const radar = entry.emulator;
    if (action === 'fall') return radar.fall();
    if (action === 'get_up') return radar.getUp();
    if (action === 'leave') return radar.leave();
    return radar.enter();
  }

  updateRadar(id: string, patch: RadarPatch): Mr60bha1State | null {
    const entry = this.entries.find((e): e is RadarEntry => e.kind === 'mr60bha1' && e.config.id === id);
    if (!entry) return null;
    const emulator = entry.emulator;
    // Presence first: `present: false` also takes the person out of bed, so a later `inBed` can override it.
    if (patch.present !== undefined) emulator.setPresent(patch.present);
    if (patch.inBed !== undefined) emulator.setInBed(patch.inBed);
    if (patch.sleepState !== undefined) emulator.setSleepState(patch.sleepState);
    if (patch.heartRateBpm !== undefined) emulator.setHeartRate(patch.heartRateBpm);
    if (patch.breathRatePerMin !== undefined) emulator.setBreathRate(patch.breathRatePerMin);
    return emulator.state();
  }

  zigbee(name: string, request: ZigbeeRequest): Record<string, unknown> | null {
    if (!this.config.zigbee2mqtt.devices.some((d) => d.friendlyName === name)) return null;
    const z2m = this.requireZigbee();
    let published: Record<string, unknown> | null = null;
    try {
      if (request.available !== undefined) z2m.setAvailability(name, request.available);
      if (request.battery !== undefined) z2m.setBattery(name, request.battery);
      if (request.action !== undefined) published = z2m.act(name, request.action);
    } catch (err) {
      if (err instanceof ZigbeeRequestError)
        throw new ControlRequestError(400, 'invalid_request', err.message);
      throw err;
    }
    const device = z2m.state().devices.find((d) => d.friendlyName === name);
    return { name, ...(published ? { published } : {}), device };
  }

  native(id: string, request: NativeRequest): Record<string, unknown> | null {
    if (!this.config.native.devices.some((d) => d.id === id)) return null;
    const device = this.natives.get(id);
    if (!device) throw notRunning('native device emulators');
    try {
      const published = device.update(request);
      return { id, published, device: device.state() };
    } catch (err) {
      if (err instanceof NativeContractError)
        throw new ControlRequestError(400, 'invalid_message', err.message);
      throw err;
    }
  }

  setFaults(deviceId: string, patch: FaultPatch): Record<string, unknown> | null {
    const defaults = this.config.faults;
    const serial = this.entries.find((e) => e.config.id === deviceId);
    if (serial) {
      if (patch.dyingBattery !== undefined) {
        throw new ControlRequestError(
          400,
          'invalid_fault',
          `${deviceId} is a serial device: dyingBattery applies to RF transmitters, zigbee and native devices`,
        );
      }
      const faults = serial.faulty.setFaults({
        noise: resolveRate(patch.noise, defaults.noiseRate),
        badChecksums: resolveRate(patch.badChecksums, defaults.badChecksumRate),
        truncated: resolveRate(patch.truncated, defaults.truncatedRate),
        silent: patch.silent,
      });
      return { id: deviceId, type: 'serial', faults, stats: serial.faulty.stats() };
    }
    const isBattery =
      this.transmitter(deviceId) !== undefined ||
      this.config.zigbee2mqtt.devices.some((d) => d.friendlyName === deviceId) ||
      this.config.native.devices.some((d) => d.id === deviceId);
    if (!isBattery) return null;
    const serialKeys = (['noise', 'badChecksums', 'truncated', 'silent'] as const).filter(
      (k) => patch[k] !== undefined,
    );
    if (serialKeys.length > 0 || patch.dyingBattery === undefined) {
      throw new ControlRequestError(
        400,
        'invalid_fault',
        `${deviceId} is a battery device: only dyingBattery applies (not ${serialKeys.join(', ') || 'nothing'})`,
      );
    }
    const rate = this.drainRate(patch.dyingBattery);
    return { id: deviceId, ...this.applyDyingBattery(deviceId, rate) };
  }

  async unplug(deviceId: string): Promise<Record<string, unknown> | null> {
    const entry = this.entries.find((e) => e.config.id === deviceId);
    if (!entry) return null;
    await this.serialise(entry, async () => {
      if (!entry.plugged) return;
      entry.plugged = false;
      entry.emulator.stop();
      entry.faulty.attach(null);
      const link = entry.link;
      entry.link = undefined;
      await link?.close();
      // socat exits on SIGTERM and removes both symlinks: the host path vanishes like a pulled USB adapter.
      await entry.pty?.close();
      this.deps.logger.info({ device: deviceId, hostPath: entry.hostPath }, 'device unplugged');
    });
    return { id: deviceId, plugged: entry.plugged, hostPath: entry.hostPath };
  }

  async replug(deviceId: string): Promise<Record<string, unknown> | null> {
    const entry = this.entries.find((e) => e.config.id === deviceId);
    if (!entry) return null;
    await this.serialise(entry, async () => {
      if (entry.plugged) return;
      await this.plugIn(entry);
      // A device that gets power again boots: the RFLink banner, the radars' state reports.
      entry.emulator.start();
      this.deps.logger.info({ device: deviceId, hostPath: entry.hostPath }, 'device plugged in');
    });
    return { id: deviceId, plugged: entry.plugged, hostPath: entry.hostPath, socatPid: entry.pty?.pid };
  }

  state(): Record<string, unknown> {
    const info = this.info();
    const { mqtt } = this.config;
    const mqttConfigured = mqtt.url !== undefined;
    return {
      controlUrl: info.controlUrl,
      devices: info.devices.map((d, i) => {
        const entry = this.entries[i];
        let state: unknown = null;
        if (entry?.kind === 'rflink') {
          const transmitters = [...entry.transmitters.values()].map((t) => t.state());
          state = {
            ...entry.emulator.state(),
            buttons: transmitters.filter((t) => t.kind === 'button').map((t) => t.name),
            transmitters,
          };
        } else if (entry?.kind === 'mr60bha1') {
          state = entry.emulator.state();
        } else if (entry?.kind === 'mr60fda1') {
          state = entry.emulator.snapshot();
        }
        const faults: (SerialFaults & { stats: FaultStats }) | null = entry
          ? { ...entry.faulty.faults(), stats: entry.faulty.stats() }
          : null;
        return { ...d, state, faults };
      }),
      mqtt: {
        url: mqtt.url === undefined ? null : withoutCredentials(mqtt.url),
        username: mqtt.username ?? null,
      },
      zigbee2mqtt:
        this.config.zigbee2mqtt.devices.length === 0
          ? null
          : this.z2m
            ? { running: true, ...this.z2m.state() }
            : { running: false, reason: mqttConfigured ? 'stopped' : 'no mqtt.url configured' },
      native: this.config.native.devices.map((d) => {
        const device = this.natives.get(d.id);
        return device
          ? { running: true, ...device.state() }
          : { id: d.id, running: false, reason: mqttConfigured ? 'stopped' : 'no mqtt.url configured' };
      }),
    };
  }

  // ---- internals -----------------------------------------------------------------------------

  private async startDevice(device: SimDeviceConfig): Promise<void> {
    const cwd = this.deps.cwd ?? process.cwd();
    const { clock } = this.deps;
    const logger = this.deps.logger.child({ component: 'sim', device: device.id });
    const faultDefaults = this.config.faults;
    const faulty = new FaultyLink({
      framing: device.kind === 'rflink' ? 'lines' : 'seeed',
      random: seededRandom(mixSeed(this.config.seed, `${device.id}:faults`)),
      noiseMaxBytes: faultDefaults.noiseMaxBytes,
      faults: {
        noise: resolveRate(device.faults.noise, faultDefaults.noiseRate),
        badChecksums: resolveRate(device.faults.badChecksums, faultDefaults.badChecksumRate),
        truncated: resolveRate(device.faults.truncated, faultDefaults.truncatedRate),
        silent: device.faults.silent,
      },
      logger,
    });
    const random = seededRandom(mixSeed(this.config.seed, device.id));
    const base = {
      devicePath: resolve(cwd, device.devicePath),
      hostPath: resolve(cwd, device.hostPath),
      faulty,
      plugged: false,
      busy: Promise.resolve(),
    };
    let entry: Entry;
    if (device.kind === 'mr60bha1') {
      const emulator = new Mr60bha1Emulator({
        link: faulty,
        clock,
        model: device.model,
        firmware: device.firmware,
        vitals: device.vitals,
        intervals: { ...this.deps.reportIntervals?.mr60bha1, observationSetupMs: device.observationSetupMs },
        random,
        logger,
      });
      entry = { ...base, kind: 'mr60bha1', config: device, emulator };
    } else if (device.kind === 'mr60fda1') {
      const emulator = new Mr60fda1Emulator({
        link: faulty,
        clock,
        model: device.model,
        firmware: device.firmware,
        residencyDelayMs: device.residencyDelayMs,
        initial: { present: device.present },
        intervals: this.deps.reportIntervals?.mr60fda1,
        random,
        logger,
      });
      entry = { ...base, kind: 'mr60fda1', config: device, emulator };
    } else {
      const emulator = new RflinkEmulator({ link: faulty, clock, repeatGapMs: device.repeatGapMs, logger });
      const transmitters = new Map<string, RfTransmitter>();
      for (const spec of device.transmitters) {
        const tx = new RfTransmitter(spec, { clock, batteryLowPercent: faultDefaults.batteryLowPercent });
        transmitters.set(spec.name, tx);
      }
      entry = { ...base, kind: 'rflink', config: device, emulator, transmitters };
    }
    // Registered before anything can fail, so stop() releases what was made.
    this.entries.push(entry);
    await this.plugIn(entry);
    entry.emulator.start();
    if (entry.kind === 'rflink') {
      for (const spec of entry.config.transmitters) {
        if (spec.dyingBattery !== false) this.applyDyingBattery(spec.name, this.drainRate(spec.dyingBattery));
      }
    }
    logger.info(
      { hostPath: entry.hostPath, devicePath: entry.devicePath, kind: device.kind },
      'device ready',
    );
  }

  /** Create the PTY pair and open the device end. */
  private async plugIn(entry: Entry): Promise<void> {
    const logger = this.deps.logger.child({ component: 'sim', device: entry.config.id });
    const pty = await createPtyPair({
      devicePath: entry.devicePath,
      hostPath: entry.hostPath,
      socatPath: this.deps.socatPath,
    });
    entry.pty = pty;
    const link = new SerialPortLink({ path: pty.devicePath, baudRate: entry.config.baudRate, logger });
    entry.link = link;
    await link.open();
    entry.faulty.attach(link);
    entry.plugged = true;
  }

  private startMqttEmulators(): void {
    const { mqtt, zigbee2mqtt, native, faults, seed } = this.config;
    const logger = this.deps.logger;
    if (zigbee2mqtt.devices.length === 0 && native.devices.length === 0) return;
    if (mqtt.url === undefined) {
      logger.warn(
        { zigbee: zigbee2mqtt.devices.length, native: native.devices.length },
        'no mqtt.url configured: zigbee2mqtt and native device emulators not started',
      );
      return;
    }
    const mqttConfig: SimMqttConfig = {
      url: mqtt.url,
      username: mqtt.username,
      password: mqtt.password,
      reconnectPeriodMs: mqtt.reconnectPeriodMs,
    };
    if (zigbee2mqtt.devices.length > 0) {
      const z2m = new Zigbee2mqttEmulator({
        mqtt: mqttConfig,
        clientId: `${mqtt.clientIdPrefix}-zigbee2mqtt`,
        clock: this.deps.clock,
        baseTopic: zigbee2mqtt.baseTopic,
        bridgeState: zigbee2mqtt.bridgeState,
        coordinatorIeee: zigbee2mqtt.coordinatorIeee,
        devices: zigbee2mqtt.devices,
        batteryLowPercent: faults.batteryLowPercent,
        random: seededRandom(mixSeed(seed, 'zigbee2mqtt')),
        logger: logger.child({ component: 'zigbee2mqtt' }),
      });
      this.z2m = z2m;
      z2m.start();
      for (const d of zigbee2mqtt.devices) {
        if (d.dyingBattery !== false) this.applyDyingBattery(d.friendlyName, this.drainRate(d.dyingBattery));
      }
    }
    for (const d of native.devices) {
      const device = new NativeDeviceEmulator({
        mqtt: mqttConfig,
        clientId: `${mqtt.clientIdPrefix}-native-${d.id}`,
        clock: this.deps.clock,
        spec: d,
        batteryLowPercent: faults.batteryLowPercent,
        logger: logger.child({ component: 'native', device: d.id }),
      });
      this.natives.set(d.id, device);
      device.start();
      if (d.dyingBattery !== false) this.applyDyingBattery(d.id, this.drainRate(d.dyingBattery));
    }
    logger.info(
      {
        url: withoutCredentials(mqtt.url),
        zigbee: zigbee2mqtt.devices.length,
        native: native.devices.length,
      },
      'MQTT device emulators started',
    );
  }

  /** `true` → the configured drain, `false` → 0, a number → itself (percent per minute). */
  private drainRate(value: boolean | number): number {
    if (value === true) return this.config.faults.dyingBatteryPercentPerMin;
    if (value === false) return 0;
    return value;
  }

  private applyDyingBattery(name: string, percentPerMinute: number): Record<string, unknown> {
    const tickMs = this.config.faults.batteryTickMs;
    const found = this.transmitter(name);
    if (found) {
      found.tx.setDyingBattery(percentPerMinute, tickMs);
      return { type: 'rf', dyingBattery: percentPerMinute, transmitter: found.tx.state() };
    }
    if (this.config.zigbee2mqtt.devices.some((d) => d.friendlyName === name)) {
      const z2m = this.requireZigbee();
      try {
        const device = z2m.setDyingBattery(name, percentPerMinute, tickMs);
        return { type: 'zigbee', dyingBattery: percentPerMinute, device };
      } catch (err) {
        if (err instanceof ZigbeeRequestError)
          throw new ControlRequestError(400, 'invalid_fault', err.message);
        throw err;
      }
    }
    const device = this.natives.get(name);
    if (!device) throw notRunning('native device emulators');
    device.setDyingBattery(percentPerMinute, tickMs);
    return { type: 'native', dyingBattery: percentPerMinute, device: device.state() };
  }

  private requireZigbee(): Zigbee2mqttEmulator {
    if (!this.z2m) throw notRunning('the zigbee2mqtt emulator');
    return this.z2m;
  }

  private transmitter(name: string): { entry: RflinkEntry; tx: RfTransmitter } | undefined {
    for (const entry of this.entries) {
      if (entry.kind !== 'rflink') continue;
      const tx = entry.transmitters.get(name);
      if (tx) return { entry, tx };
    }
    return undefined;
  }

  private allTransmitters(): Array<{ name: string; kind: string }> {
    return this.config.devices.flatMap((d) =>
      d.kind === 'rflink' ? d.transmitters.map((t) => ({ name: t.name, kind: t.kind })) : [],
    );
  }

  private async serialise(entry: Entry, fn: () => Promise<void>): Promise<void> {
    const run = entry.busy.catch(() => {}).then(fn);
    entry.busy = run;
    await run;
  }
}

function notRunning(what: string): ControlRequestError {
  return new ControlRequestError(
    409,
    'not_running',
    `${what} ${what.endsWith('s') ? 'are' : 'is'} not running (is mqtt.url configured?)`,
  );
}
