import type { Clock } from '../../common/clock.js';
import type { GatewayConfig } from '../config/schema.js';
import type { DeviceEvent } from '../devices/device-event.js';
import type { Gateway } from '../gateway.js';
import type { Reading } from '../telemetry/reading.js';

/**
 * `gateway test`: the installer's walk through a freshly commissioned home. The gateway runs in
 * commissioning mode (no care rule pages anyone), each configured device is asked for in turn ("press
 * the SOS button", "walk past the hall sensor") and counts only once it has said what it was asked for,
 * and at the end a `test_alarm` goes through the real outbox and uplink until the cloud answers
 * `stored`: the end-to-end proof that an alarm from this home reaches the monitoring centre.
 */

type DeviceConfig = GatewayConfig['devices'][number];

/** What the installer does for each role, and what proves the device saw it. */
interface Step {
  instruction: string;
  heard: (signal: { event?: DeviceEvent; reading?: Reading }) => string | null;
}

const pressed = (signal: { event?: DeviceEvent }) => (signal.event ? `pressed (${signal.event.kind})` : null);
const readingIs =
  (metric: Reading['metric'], value: Reading['value'], label: string) =>
  (signal: { reading?: Reading }): string | null =>
    signal.reading?.metric === metric && signal.reading.value === value ? label : null;

/** The step for a device, by its role. */
export function stepFor(device: DeviceConfig): Step {
  const where = device.room ? ` (${device.room})` : '';
  const name = `${device.id}${where}`;
  switch (device.role) {
    case 'sos_button':
    case 'cancel_button':
      return { instruction: `press ${name}`, heard: pressed };
    case 'pir':
      return { instruction: `walk past ${name}`, heard: readingIs('occupancy', true, 'motion') };
    case 'front_door':
    case 'door':
      return { instruction: `open ${name}`, heard: readingIs('contact_open', true, 'open') };
    case 'bed_radar':
      return { instruction: `lie on the bed watched by ${name}`, heard: readingIs('in_bed', true, 'in bed') };
    case 'fall_radar':
      return { instruction: `stand in the field of ${name}`, heard: readingIs('presence', true, 'presence') };
    case 'smoke':
      return { instruction: `press the test button of ${name}`, heard: readingIs('smoke', true, 'smoke') };
    case 'gas':
      return { instruction: `press the test button of ${name}`, heard: readingIs('gas', true, 'gas') };
    case 'water':
      return { instruction: `wet the probe of ${name}`, heard: readingIs('water_leak', true, 'water') };
  }
}

export interface CommissioningOptions {
  /** Only these device ids (default: every configured device). */
  only: string[];
  /** Leave these out (a detector that cannot be set off today). */
  skip: string[];
  /** How long to wait for each device. */
  deviceTimeoutMs: number;
  /** How long to wait for the cloud's `stored`. */
  cloudTimeoutMs: number;
  /** Leave out the device walk: only the test alarm. */
  alarmOnly: boolean;
}

export interface DeviceCheck {
  id: string;
  role: DeviceConfig['role'];
  heard: boolean;
  /** What was heard (`sos`, `motion`, `in bed`…). */
  what?: string;
  /** From the instruction to the signal. */
  afterMs?: number;
}

export interface CommissioningReport {
  devices: DeviceCheck[];
  cloud: { alarmId: string; stored: boolean; afterMs?: number };
  /** Every device heard and the test alarm stored. */
  ok: boolean;
}

/** Runs the walk on a started gateway (constructed with `commissioning: true`). */
export async function runCommissioning(
  gateway: Gateway,
  config: GatewayConfig,
  clock: Clock,
  options: CommissioningOptions,
  say: (line: string) => void,
): Promise<CommissioningReport> {
  const devices: DeviceCheck[] = [];
  const chosen = config.devices.filter(
    (d) => (options.only.length === 0 || options.only.includes(d.id)) && !options.skip.includes(d.id),
  );
  for (const id of options.only) {
    if (!config.devices.some((d) => d.id === id)) say(`--device ${id}: no such device in the config`);
  }
  if (!options.alarmOnly) {
    for (const device of chosen) {
      const step = stepFor(device);
      say(`→ ${step.instruction} (waiting ${Math.round(options.deviceTimeoutMs / 1000)} s)`);
      const startedAt = clock.now();
      const what = await waitFor<string>(gateway, options.deviceTimeoutMs, (resolve) => [
        gateway.bus.on('deviceEvent', (event) => {
          if (event.deviceId === device.id) {
            const heard = step.heard({ event });
            if (heard) resolve(heard);
          }
        }),
        gateway.bus.on('reading', (reading) => {
          if (reading.deviceId === device.id) {
            const heard = step.heard({ reading });
            if (heard) resolve(heard);
          }
        }),
      ]);
      const check: DeviceCheck = { id: device.id, role: device.role, heard: what !== null };
      if (what !== null) {
        check.what = what;
        check.afterMs = clock.now() - startedAt;
        say(`  ✓ ${device.id}: ${what}`);
      } else {
        say(`  ✗ ${device.id}: nothing heard (check its battery, pairing, and that it is in range)`);
      }
      devices.push(check);
    }
  }

  say('→ sending a test alarm to the monitoring centre…');
  const startedAt = clock.now();
  const alarmIds: string[] = [];
  const stored = await waitFor<true>(gateway, options.cloudTimeoutMs, (resolve) => {
    const off = gateway.bus.on('alarmAck', (ack) => {
      if (alarmIds.includes(ack.alarmId) && ack.status === 'stored') resolve(true);
    });
    alarmIds.push(gateway.raiseTestAlarm().id);
    return [off];
  });
  const alarmId = alarmIds[0] as string;
  const cloud: CommissioningReport['cloud'] = { alarmId, stored: stored === true };
  if (stored) {
    cloud.afterMs = clock.now() - startedAt;
    say(`  ✓ the cloud stored test alarm ${alarmId} in ${cloud.afterMs} ms`);
  } else {
    say(`  ✗ the cloud did not confirm test alarm ${alarmId}: check cloud.url, the secret and the network`);
  }
  return { devices, cloud, ok: cloud.stored && devices.every((d) => d.heard) };
}

/** Resolves with the first value `listen` hands to `resolve`, or null after `timeoutMs`; unsubscribes. */
function waitFor<T>(
  _gateway: Gateway,
  timeoutMs: number,
  listen: (resolve: (value: T) => void) => (() => void)[],
): Promise<T | null> {
  return new Promise((done) => {
    let offs: (() => void)[] = [];
    let settled = false;
    const finish = (value: T | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const off of offs) off();
      done(value);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    offs = listen((value) => finish(value));
    if (settled) for (const off of offs) off();
  });
}
