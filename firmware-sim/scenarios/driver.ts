import { errorMessage } from '../../common/errors.js';
import type {
  ControlTarget,
  FallRadarAction,
  FaultPatch,
  NativeRequest,
  RadarPatch,
  ZigbeeRequest,
} from '../control-server.js';
import type { RfAction } from '../devices/rf-transmitter.js';
import { kitDevice } from './kit.js';
import type { ScenarioStep } from './schema.js';

/**
 * What a scenario step does to the simulator, whether it runs in this process
 * (accelerated: a {@link ControlTarget}, i.e. the Simulator) or elsewhere
 * (realtime: its HTTP control API). Names are the simulator's.
 */
export interface SimDriver {
  radar(id: string, patch: RadarPatch): Promise<void>;
  fallRadar(id: string, action: FallRadarAction): Promise<void>;
  rf(name: string, action: RfAction): Promise<void>;
  rfBattery(name: string, state: 'ok' | 'low'): Promise<void>;
  zigbee(name: string, request: ZigbeeRequest): Promise<void>;
  native(id: string, request: NativeRequest): Promise<void>;
  faults(id: string, patch: FaultPatch): Promise<void>;
  unplug(id: string): Promise<void>;
  replug(id: string): Promise<void>;
}

/** A step the simulator refused (unknown name, an action the device cannot do). */
export class StepError extends Error {}

/** Drive a simulator in this process. */
export function directDriver(target: ControlTarget): SimDriver {
  const must = (result: unknown, what: string): void => {
    if (result === null || result === undefined) throw new StepError(`the simulator has no ${what}`);
  };
  return {
    async radar(id, patch) {
      must(target.updateRadar(id, patch), `radar ${id}`);
    },
    async fallRadar(id, action) {
      must(target.fallRadar(id, action), `fall radar ${id}`);
    },
    async rf(name, action) {
      must(target.rf(name, action), `RF transmitter ${name}`);
    },
    async rfBattery(name, state) {
      must(target.rfBattery(name, state), `RF transmitter ${name}`);
    },
    async zigbee(name, request) {
      must(target.zigbee(name, request), `zigbee device ${name}`);
    },
    async native(id, request) {
      must(target.native(id, request), `native device ${id}`);
    },
    async faults(id, patch) {
      must(target.setFaults(id, patch), `device ${id}`);
    },
    async unplug(id) {
      must(await target.unplug(id), `serial device ${id}`);
    },
    async replug(id) {
      must(await target.replug(id), `serial device ${id}`);
    },
  };
}

/** Drive a running simulator through its control API (`npm run sim -- run`). */
export function httpDriver(baseUrl: string, fetchFn: typeof fetch = fetch): SimDriver {
  const base = baseUrl.replace(/\/+$/, '');
  const post = async (path: string, body?: unknown): Promise<void> => {
    let res: Response;
    try {
      res = await fetchFn(`${base}${path}`, {
        method: 'POST',
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new StepError(`cannot reach the simulator at ${base}: ${errorMessage(err)}`);
    }
    if (!res.ok) {
      const text = await res.text();
      let message = text.slice(0, 300);
      try {
        message = String((JSON.parse(text) as { message?: unknown }).message ?? message);
      } catch {}
      throw new StepError(`POST ${path}: HTTP ${res.status}: ${message}`);
    }
    await res.arrayBuffer();
  };
  const seg = encodeURIComponent;
  return {
    radar: (id, patch) => post(`/radar/${seg(id)}`, patch),
    fallRadar: (id, action) => post(`/fall-radar/${seg(id)}`, { action }),
    rf: (name, action) => post(`/rf/${seg(name)}`, { action }),
    rfBattery: (name, state) => post(`/rf/${seg(name)}/battery`, { state }),
    zigbee: (name, request) => post(`/zigbee/${seg(name)}`, request),
    native: (id, request) => post(`/native/${seg(id)}`, request),
    faults: (id, patch) => post(`/faults/${seg(id)}`, patch),
    unplug: (id) => post(`/unplug/${seg(id)}`),
    replug: (id) => post(`/replug/${seg(id)}`),
  };
}

/** The simulator's name for a kit device (the schema has checked the id). */
export function simName(kitId: string): string {
  const device = kitDevice(kitId);
  if (!device) throw new StepError(`${kitId} is not in the kit`);
  return device.simName;
}

/** Carry out one scenario step. */
export async function applyStep(step: ScenarioStep, driver: SimDriver): Promise<void> {
  if (step.bedRadar) {
    const { breathAbsent, ...patch } = step.bedRadar;
    await driver.radar(simName('bed-radar'), breathAbsent ? { ...patch, breathRatePerMin: 0 } : patch);
  } else if (step.fallRadar) {
    await driver.fallRadar(simName('fall-radar'), step.fallRadar);
  } else if (step.rf) {
    await driver.rf(simName(step.rf.device), step.rf.action);
  } else if (step.battery) {
    const device = kitDevice(step.battery.device);
    const name = simName(step.battery.device);
    if (device?.transport === 'rflink') await driver.rfBattery(name, step.battery.state ?? 'low');
    else if (device?.transport === 'zigbee2mqtt')
      await driver.zigbee(name, { battery: step.battery.percent ?? 0 });
    else await driver.native(name, { state: { battery: step.battery.percent ?? 0 } });
  } else if (step.zigbee) {
    const { device, ...request } = step.zigbee;
    await driver.zigbee(simName(device), request);
  } else if (step.native) {
    const { device, ...request } = step.native;
    await driver.native(simName(device), request);
  } else if (step.fault) {
    const name = simName(step.fault.device);
    const { action, rate } = step.fault;
    switch (action) {
      case 'unplug':
        await driver.unplug(name);
        break;
      case 'replug':
        await driver.replug(name);
        break;
      case 'silent':
      case 'resume':
        await driver.faults(name, { silent: action === 'silent' });
        break;
      case 'noise':
        await driver.faults(name, { noise: rate ?? true });
        break;
      case 'clear':
        await driver.faults(name, { noise: false, badChecksums: false, truncated: false, silent: false });
        break;
      case 'dying_battery':
        await driver.faults(name, { dyingBattery: rate ?? true });
        break;
    }
  }
}

/** `bedRadar inBed=false`, `rf sos-button press`: what a step does, for logs. */
export function describeStep(step: ScenarioStep): string {
  if (step.bedRadar) {
    return `bedRadar ${Object.entries(step.bedRadar)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ')}`;
  }
  if (step.fallRadar) return `fallRadar ${step.fallRadar}`;
  if (step.rf) return `rf ${step.rf.device} ${step.rf.action}`;
  if (step.battery)
    return `battery ${step.battery.device} ${step.battery.state ?? `${step.battery.percent} %`}`;
  if (step.zigbee)
    return `zigbee ${step.zigbee.device} ${JSON.stringify({ ...step.zigbee, device: undefined })}`;
  if (step.native)
    return `native ${step.native.device} ${JSON.stringify({ ...step.native, device: undefined })}`;
  if (step.fault) {
    return `fault ${step.fault.device} ${step.fault.action}${step.fault.rate === undefined ? '' : ` ${step.fault.rate}`}`;
  }
  return '(nothing)';
}
