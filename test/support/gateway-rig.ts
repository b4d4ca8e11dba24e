import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../common/clock.js';
import { createLogger, silentLogger } from '../../common/logger.js';
import { simConfigSchema } from '../../firmware-sim/config.js';
import { Simulator } from '../../firmware-sim/simulator.js';
import { type GatewayConfigInput, gatewayConfigSchema } from '../../gateway/config/schema.js';
import { Gateway } from '../../gateway/gateway.js';

/**
 * A home on real parts: the simulator's MR60BHA1 and RFLink on socat PTY
 * pairs, and a gateway reading them, pointed at a given relay and InfluxDB.
 */
export async function startHome(options: {
  mqttPort: number;
  secret: string;
  influxUrl: string;
  database: string;
  gatewayId?: string;
  overrides?: Partial<GatewayConfigInput>;
}): Promise<{ sim: Simulator; gateway: Gateway; dir: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'homebed-home-'));
  mkdirSync(join(dir, 'dev'));
  const sim = new Simulator(
    simConfigSchema.parse({
      control: { port: 0 },
      log: { level: 'silent' },
      devices: [
        {
          id: 'bed-radar',
          kind: 'mr60bha1',
          devicePath: join(dir, 'dev/sim-radar'),
          hostPath: join(dir, 'dev/radar'),
          observationSetupMs: 0,
        },
        {
          id: 'rflink',
          kind: 'rflink',
          devicePath: join(dir, 'dev/sim-rflink'),
          hostPath: join(dir, 'dev/rflink'),
        },
      ],
    }),
    { clock: systemClock, logger: silentLogger() },
  );
  await sim.start();
  const gatewayId = options.gatewayId ?? 'gw-home';
  const config = gatewayConfigSchema.parse({
    gatewayId,
    bedId: 'bed-home',
    dataDir: join(dir, 'gateway'),
    cloud: {
      url: `mqtt://127.0.0.1:${options.mqttPort}`,
      secret: options.secret,
      reconnectPeriodMs: 200,
      retransmitInitialMs: 500,
    },
    influx: { url: options.influxUrl, database: options.database, flushIntervalMs: 200 },
    serialPorts: [
      { id: 'radar-port', path: join(dir, 'dev/radar'), protocol: 'seeed' },
      { id: 'rflink-port', path: join(dir, 'dev/rflink'), protocol: 'rflink', pingIntervalS: 1 },
    ],
    devices: [
      { id: 'bed-radar', kind: 'mr60bha1', role: 'bed_radar', room: 'bedroom', link: 'radar-port' },
      {
        id: 'sos',
        kind: 'rf_button',
        role: 'sos_button',
        room: 'bedroom',
        link: 'rflink-port',
        address: 'EV1527:0d3e4:01',
      },
    ],
    // "Help is coming" for the resident: a real process writes a file the test can see.
    feedback: {
      notifiers: [{ type: 'sound', command: ['sh', '-c', `echo told >> ${join(dir, 'told-resident')}`] }],
    },
    // Tests press the SOS button several times within seconds; each press is meant as a new call.
    rules: { sos: { repeatWindowMs: 500 } },
    // Any free port: tests run several gateways at once.
    ops: { port: 0 },
    ...options.overrides,
  });
  const gateway = new Gateway({
    config,
    clock: systemClock,
    logger: process.env.DEBUG_RIG ? createLogger({ level: 'debug' }) : silentLogger(),
  });
  await gateway.start();
  return {
    sim,
    gateway,
    dir,
    stop: async () => {
      await gateway.stop();
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
