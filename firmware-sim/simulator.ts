import { resolve } from 'node:path';
import type { Clock } from '../common/clock.js';
import { errorMessage } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { RadarDeviceConfig, RflinkDeviceConfig, SimConfig } from './config.js';
import { ControlServer, type ControlTarget, type RadarPatch } from './control-server.js';
import { Mr60bha1Emulator, type Mr60bha1State } from './devices/mr60bha1.js';
import { RflinkEmulator } from './devices/rflink-receiver.js';
import { createPtyPair, type PtyPair } from './links/pty.js';
import { SerialPortLink } from './links/serial-port-link.js';
import { seededRandom } from './random.js';

export interface SimulatorDeps {
  /** Drives every report and repeat; the system clock in production, a manual one in tests. */
  clock: Clock;
  logger: Logger;
  /** The `socat` binary; default `socat` from `PATH`. */
  socatPath?: string;
  /** Base for relative device paths; default `process.cwd()` (the repo root under `npm run sim`). */
  cwd?: string;
}

/** Where one emulated device can be reached. */
export interface SimulatorDeviceInfo {
  id: string;
  kind: 'mr60bha1' | 'rflink';
  /** The path the gateway opens. */
  hostPath: string;
  /** The path the emulator holds open. */
  devicePath: string;
  baudRate: number;
  /** Process id of the socat holding the PTY pair. */
  socatPid: number | undefined;
}

export interface SimulatorInfo {
  controlUrl: string;
  devices: SimulatorDeviceInfo[];
}

interface RadarEntry {
  kind: 'mr60bha1';
  config: RadarDeviceConfig;
  pty: PtyPair;
  link?: SerialPortLink;
  emulator?: Mr60bha1Emulator;
}

interface RflinkEntry {
  kind: 'rflink';
  config: RflinkDeviceConfig;
  pty: PtyPair;
  link?: SerialPortLink;
  emulator?: RflinkEmulator;
}

type Entry = RadarEntry | RflinkEntry;

/**
 * The whole simulator: for each configured device a PTY pair (socat), the
 * device end opened with `serialport`, and an emulator writing the vendor's
 * bytes; plus the HTTP control API. `start()` builds it all (and undoes what
 * it built if a step fails); `stop()` releases every PTY, port, timer and
 * socket.
 */
export class Simulator implements ControlTarget {
  private entries: Entry[] = [];
  private control: ControlServer | undefined;

  constructor(
    private readonly config: SimConfig,
    private readonly deps: SimulatorDeps,
  ) {}

  /** Create the PTYs, open the device ends, start the emulators, then the control API. */
  async start(): Promise<SimulatorInfo> {
    if (this.control) return this.info();
    const { logger } = this.deps;
    if (this.config.devices.length === 0) logger.warn('no devices configured: only the control API will run');
    try {
      for (const device of this.config.devices) await this.startDevice(device);
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

  /** Stop the API, the emulators (timers), close the ports and kill socat. Idempotent; never throws. */
  async stop(): Promise<void> {
    const control = this.control;
    this.control = undefined;
    const entries = this.entries;
    this.entries = [];
    const failures: string[] = [];
    const attempt = async (what: string, fn: () => Promise<void> | void): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        failures.push(`${what}: ${errorMessage(err)}`);
      }
    };
    if (control) await attempt('control server', () => control.stop());
    for (const entry of entries) entry.emulator?.stop();
    await Promise.all(
      entries.map(async (entry) => {
        await attempt(`${entry.config.id} port`, () => entry.link?.close());
        await attempt(`${entry.config.id} pty`, () => entry.pty.close());
      }),
    );
    if (failures.length) this.deps.logger.warn({ failures }, 'simulator stopped with errors');
    else if (entries.length || control) this.deps.logger.info('simulator stopped');
  }

  /** Paths and URL, for the `simulator ready` line and for tests. */
  info(): SimulatorInfo {
    return {
      controlUrl: this.control?.url ?? '',
      devices: this.entries.map((e) => ({
        id: e.config.id,
        kind: e.kind,
        hostPath: e.pty.hostPath,
        devicePath: e.pty.devicePath,
        baudRate: e.config.baudRate,
        socatPid: e.pty.pid,
      })),
    };
  }

  press(name: string): { pressed: string; lines: number } | null {
    for (const entry of this.entries) {
      if (entry.kind !== 'rflink' || !entry.emulator) continue;
      const button = entry.config.buttons.find((b) => b.name === name);
      if (button) return { pressed: name, lines: entry.emulator.press(button, button.repeats) };
    }
    return null;
  }

  buttonNames(): string[] {
    return this.config.devices.flatMap((d) => (d.kind === 'rflink' ? d.buttons.map((b) => b.name) : []));
  }

  updateRadar(id: string, patch: RadarPatch): Mr60bha1State | null {
    const entry = this.entries.find((e): e is RadarEntry => e.kind === 'mr60bha1' && e.config.id === id);
    const emulator = entry?.emulator;
    if (!emulator) return null;
    // Presence first: `present: false` also takes the person out of bed, so a later `inBed` can override it.
    if (patch.present !== undefined) emulator.setPresent(patch.present);
    if (patch.inBed !== undefined) emulator.setInBed(patch.inBed);
    if (patch.sleepState !== undefined) emulator.setSleepState(patch.sleepState);
    if (patch.heartRateBpm !== undefined) emulator.setHeartRate(patch.heartRateBpm);
    if (patch.breathRatePerMin !== undefined) emulator.setBreathRate(patch.breathRatePerMin);
    return emulator.state();
  }

  state(): { controlUrl: string; devices: Array<SimulatorDeviceInfo & { state: unknown }> } {
    const info = this.info();
    return {
      controlUrl: info.controlUrl,
      devices: info.devices.map((d, i) => {
        const entry = this.entries[i];
        let state: unknown = null;
        if (entry?.kind === 'rflink') {
          state = { ...entry.emulator?.state(), buttons: entry.config.buttons.map((b) => b.name) };
        } else if (entry?.kind === 'mr60bha1') {
          state = entry.emulator?.state() ?? null;
        }
        return { ...d, state };
      }),
    };
  }

  private async startDevice(device: SimConfig['devices'][number]): Promise<void> {
    const cwd = this.deps.cwd ?? process.cwd();
    const logger = this.deps.logger.child({ component: 'sim', device: device.id });
    const pty = await createPtyPair({
      devicePath: resolve(cwd, device.devicePath),
      hostPath: resolve(cwd, device.hostPath),
      socatPath: this.deps.socatPath,
    });
    // Registered before anything else can fail, so stop() releases this PTY too.
    const entry = { kind: device.kind, config: device, pty } as Entry;
    this.entries.push(entry);
    const link = new SerialPortLink({ path: pty.devicePath, baudRate: device.baudRate, logger });
    entry.link = link;
    await link.open();

    if (entry.kind === 'mr60bha1') {
      const c = entry.config;
      entry.emulator = new Mr60bha1Emulator({
        link,
        clock: this.deps.clock,
        model: c.model,
        firmware: c.firmware,
        vitals: c.vitals,
        intervals: { observationSetupMs: c.observationSetupMs },
        random: seededRandom(mixSeed(this.config.seed, c.id)),
        logger,
      });
      entry.emulator.start();
    } else {
      entry.emulator = new RflinkEmulator({
        link,
        clock: this.deps.clock,
        repeatGapMs: entry.config.repeatGapMs,
        logger,
      });
      entry.emulator.start();
    }
    logger.info({ hostPath: pty.hostPath, devicePath: pty.devicePath, kind: device.kind }, 'device ready');
  }
}

/** One PRNG stream per device, stable when devices are reordered: seed XOR FNV-1a(id). */
function mixSeed(seed: number, id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (seed ^ h) >>> 0;
}
