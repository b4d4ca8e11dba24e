/**
 * Alarm latency: from the bytes of an SOS button press entering the RFLink
 * receiver's serial port to (a) the alarm committed in the cloud relay and
 * (b) the change arriving on a staff member's event stream, with 100 other
 * homes streaming at the same time. Beside it, the floor: one MQTT QoS 1
 * publish through the same broker software to a subscriber, measured in the
 * same run, interleaved with the presses, as many times.
 */
import { join } from 'node:path';
import { startPrivateInfluxd } from '../tools/influxd.js';
import type { BenchContext, Benchmark } from './lib/context.js';
import { startResult } from './lib/context.js';
import {
  AlarmTracker,
  Centre,
  Cleanup,
  ClockCheck,
  delay,
  FloorProbe,
  latencyFigures,
  msSummary,
  paced,
  Resolver,
  RflinkPty,
  rfButtons,
  SseStream,
  startBedRadar,
  startFleet,
  startFloorBroker,
  startGateway,
  writeGatewayConfig,
} from './lib/home-rig.js';
import { packageVersion, programVersion } from './lib/machine.js';
import { UsageMonitor, type UsageReport } from './lib/process-usage.js';
import type { BenchResult, Comparison } from './lib/results.js';

const GATEWAY_ID = 'gw-bench';
const BED_ID = 'bed-bench';
const SECRET = 'bench-gateway-secret-0123456789';

interface Parameters {
  alarms: number;
  warmupAlarms: number;
  pressIntervalMs: number;
  buttons: number;
  backgroundHomes: number;
  fleetHeartbeatIntervalS: number;
  vitalsIntervalMs: number;
  settleTimeoutMs: number;
}

const FULL: Parameters = {
  alarms: 1000,
  warmupAlarms: 40,
  pressIntervalMs: 100,
  // 40 buttons pressed in turn at 100 ms: each one every 4 s, past the SOS rule's 3 s repeat window.
  buttons: 40,
  backgroundHomes: 100,
  fleetHeartbeatIntervalS: 10,
  vitalsIntervalMs: 1000,
  settleTimeoutMs: 20_000,
};

const QUICK: Parameters = {
  ...FULL,
  alarms: 30,
  warmupAlarms: 5,
  backgroundHomes: 10,
  settleTimeoutMs: 10_000,
};

async function run(ctx: BenchContext): Promise<BenchResult> {
  const result = startResult('latency', 'Alarm latency');
  const p = ctx.quick ? QUICK : FULL;
  const cleanup = new Cleanup();
  const clock = new ClockCheck();
  try {
    ctx.say(
      'starting InfluxDB, the relay, the floor broker, the bed radar, the gateway and the background homes',
    );
    const influxd = await startPrivateInfluxd({ dir: join(ctx.dir, 'influxd') });
    cleanup.add('influxd', () => influxd.stop());

    const tracker = new AlarmTracker(GATEWAY_ID);
    const centre = await Centre.start({
      dir: ctx.dir,
      gatewayId: GATEWAY_ID,
      bedId: BED_ID,
      secret: SECRET,
      operator: true,
      verbose: ctx.verbose,
      say: ctx.say,
      tracker,
    });
    cleanup.add('cloud relay', () => centre.child.stop());

    // The background homes are provisioned as an operator does it, over the API (each secret shown once).
    const operator = await centre.operator();
    const homes: { gatewayId: string; secret: string }[] = [];
    for (let i = 0; i < p.backgroundHomes; i++) {
      const gatewayId = `gw-home-${String(i).padStart(3, '0')}`;
      const res = await operator.post<{ secret?: string; message?: string }>('/api/gateways', {
        id: gatewayId,
      });
      if (res.status !== 201 || !res.body.secret)
        throw new Error(`provisioning ${gatewayId}: ${res.status} ${res.body.message ?? ''}`);
      homes.push({ gatewayId, secret: res.body.secret });
    }

    const floorBroker = await startFloorBroker(ctx.verbose, ctx.say);
    cleanup.add('floor broker', () => floorBroker.child.stop());
    const floor = await FloorProbe.connect(floorBroker.url);
    cleanup.add('floor clients', () => floor.close());

    const radar = await startBedRadar(ctx.dir, ctx.verbose, ctx.say);
    cleanup.add('simulator (bed radar)', () => radar.child.stop());
    const rflink = await RflinkPty.create(join(ctx.dir, 'dev'));
    cleanup.add('RFLink PTY', () => rflink.close());

    const buttons = rfButtons(p.buttons);
    const configFile = writeGatewayConfig({
      dir: ctx.dir,
      gatewayId: GATEWAY_ID,
      bedId: BED_ID,
      secret: SECRET,
      cloudUrl: centre.mqttUrl,
      influx: { url: influxd.url, database: 'bench' },
      serialPorts: [
        { id: 'bed-radar-port', path: radar.hostPath, protocol: 'seeed' },
        { id: 'rflink-port', path: rflink.hostPath, protocol: 'rflink' },
      ],
      devices: [
        { id: 'bed-radar', kind: 'mr60bha1', role: 'bed_radar', room: 'bedroom', link: 'bed-radar-port' },
        ...buttons.map((b) => ({
          id: b.deviceId,
          kind: 'rf_button',
          role: 'sos_button',
          room: 'bedroom',
          link: 'rflink-port',
          address: b.address,
        })),
      ],
    });
    const gateway = await startGateway(
      configFile,
      (_line, parsed) => {
        if (parsed) tracker.onGatewayLog(parsed);
      },
      ctx.verbose,
      ctx.say,
    );
    cleanup.add('gateway', () => gateway.stop());
    await centre.gatewayOnline();

    const fleet = await startFleet(
      {
        mqttUrl: centre.mqttUrl,
        influxUrl: influxd.url,
        database: 'bench',
        homes,
        heartbeatIntervalS: p.fleetHeartbeatIntervalS,
        vitalsIntervalMs: p.vitalsIntervalMs,
      },
      ctx.verbose,
      ctx.say,
    );
    cleanup.add('background homes', () => fleet.child.stop());

    const staff = await centre.staff();
    const resolver = new Resolver(staff);
    const stream = new SseStream(centre.httpUrl, staff.token, (change, arrivedAt) => {
      tracker.onStream(change, arrivedAt);
      if (change.kind === 'raised' && change.detail.type === 'sos_button' && change.gatewayId === GATEWAY_ID)
        resolver.add(change.alarmId);
    });
    cleanup.add('event stream', () => stream.close());
    await stream.opened;
    // Let the radar be identified and the background homes' first heartbeats and writes pass.
    await delay(ctx.quick ? 1_000 : 3_000);

    const floorMs: Record<string, (number | null)[]> = { warmup: [], measure: [] };
    let pressNo = 0;
    const phase = async (name: 'warmup' | 'measure', count: number) => {
      const [presses] = await Promise.all([
        paced(count, p.pressIntervalMs, () => {
          const button = buttons[pressNo++ % buttons.length]!;
          tracker.press(name, button.deviceId, rflink.press(button));
        }),
        // Half an interval after each press, so the floor runs under the same load without queueing behind it.
        paced(
          count,
          p.pressIntervalMs,
          async () => {
            floorMs[name]!.push(await floor.probe());
          },
          p.pressIntervalMs / 2,
        ),
      ]);
      return presses;
    };

    ctx.say(`warm-up: ${p.warmupAlarms} presses`);
    await phase('warmup', p.warmupAlarms);
    await tracker.settle(p.settleTimeoutMs, true);

    const monitors: Record<string, UsageMonitor> = {
      gateway: new UsageMonitor(gateway.pid),
      cloudRelay: new UsageMonitor(centre.child.pid),
      influxd: new UsageMonitor(influxd.pid),
      backgroundHomes: new UsageMonitor(fleet.child.pid),
    };
    for (const m of Object.values(monitors)) m.start();
    const fleetBefore = fleet.stats();
    ctx.say(
      `measuring: ${p.alarms} presses, one every ${p.pressIntervalMs} ms, ${p.backgroundHomes} background homes`,
    );
    const measuredAt = Date.now();
    const pacing = await phase('measure', p.alarms);
    const settled = await tracker.settle(p.settleTimeoutMs, true);
    const usage: Record<string, UsageReport> = {};
    for (const [name, m] of Object.entries(monitors)) usage[name] = m.stop();
    const fleetAfter = fleet.stats();
    await tracker.fillFromApi(staff);
    await resolver.drained();

    const outcomes = tracker.outcomes();
    const measured = outcomes.filter((o) => o.phase === 'measure');
    const warmup = outcomes.filter((o) => o.phase === 'warmup');
    const m = latencyFigures(measured, true);
    const floorValues = floorMs.measure!.filter((v): v is number => v !== null);
    const floorLost = floorMs.measure!.length - floorValues.length;
    const problems: string[] = [];
    if (!settled || m.missingCommit || m.missingOnStream)
      problems.push(
        `${m.missingCommit} of ${m.pressed} presses have no committed alarm and ${m.missingOnStream} none on the event stream ${p.settleTimeoutMs / 1000} s after the last press`,
      );
    if (tracker.unmatched.length)
      problems.push(`SOS alarms matching no press: ${tracker.unmatched.slice(0, 5).join(', ')}`);
    if (floorLost) problems.push(`${floorLost} floor probes got no message within 5 s`);
    if (stream.closedByServer) problems.push('the relay closed the event stream during the run');
    if (resolver.failures.length)
      problems.push(`resolving alarms failed: ${resolver.failures.slice(0, 5).join(', ')}`);
    if (problems.length) throw new Error(`latency benchmark invalid: ${problems.join('; ')}`);

    const floorSummary = msSummary(floorValues)!;
    const commit = m.buttonToCommitMs!;
    const sse = m.buttonToSseMs!;
    const aedes = packageVersion('aedes');
    const floorLabel = `MQTT QoS 1 publish → subscriber, aedes ${aedes} alone`;
    const comparisons: Comparison[] = [
      {
        figure: 'alarm latency p50, button → committed in the cloud',
        unit: 'ms',
        ours: commit.p50,
        reference: { kind: 'floor', label: `${floorLabel} (p50)`, value: floorSummary.p50 },
        better: 'lower',
      },
      {
        figure: 'alarm latency p99, button → committed in the cloud',
        unit: 'ms',
        ours: commit.p99,
        reference: { kind: 'floor', label: `${floorLabel} (p99)`, value: floorSummary.p99 },
        better: 'lower',
      },
      {
        figure: 'alarm latency p50, button → staff event stream (SSE)',
        unit: 'ms',
        ours: sse.p50,
        reference: { kind: 'floor', label: `${floorLabel} (p50)`, value: floorSummary.p50 },
        better: 'lower',
      },
      {
        figure: 'alarm latency p99, button → staff event stream (SSE)',
        unit: 'ms',
        ours: sse.p99,
        reference: { kind: 'floor', label: `${floorLabel} (p99)`, value: floorSummary.p99 },
        better: 'lower',
      },
    ];
    const wl = latencyFigures(warmup, true);
    return result.finish({
      method:
        `${p.alarms} SOS presses written as RFLink lines to the gateway's serial PTY, one every ${p.pressIntervalMs} ms, ` +
        `timed to the alarm committed in the cloud relay and to its arrival on a staff member's event stream, ` +
        `with ${p.backgroundHomes} other homes streaming; floor: one MQTT QoS 1 publish through aedes to a subscriber, as many times in the same run.`,
      versions: {
        influxd: programVersion('influxd', ['version']),
        aedes,
        mqtt: packageVersion('mqtt'),
        socat: programVersion('socat', ['-V'], /socat version (\S+)/),
      },
      parameters: { ...p, seed: ctx.seed, quick: ctx.quick },
      figures: {
        ...m,
        floor: { probes: floorMs.measure!.length, lost: floorLost, publishToSubscriberMs: floorSummary },
        warmup: {
          presses: wl.pressed,
          buttonToCommitMs: wl.buttonToCommitMs,
          buttonToSseMs: wl.buttonToSseMs,
          floorMs: msSummary(floorMs.warmup!.filter((v): v is number => v !== null)),
        },
        measuredFor: {
          seconds: Math.round((Date.now() - measuredAt) / 1000),
          pressLateMaxMs: pacing.maxLateMs,
        },
        alarmsResolvedByStaff: resolver.resolved,
        eventStreamEvents: stream.events,
        backgroundHomes: {
          homes: p.backgroundHomes,
          connected: fleetAfter?.connected ?? 0,
          heartbeatsDuringMeasurement: (fleetAfter?.heartbeats ?? 0) - (fleetBefore?.heartbeats ?? 0),
          vitalsPointsDuringMeasurement: (fleetAfter?.vitalsPoints ?? 0) - (fleetBefore?.vitalsPoints ?? 0),
          vitalsWriteErrors: fleetAfter?.vitalsWriteErrors ?? 0,
          mqttErrors: fleetAfter?.mqttErrors ?? 0,
        },
        usageDuringMeasurement: usage,
        clockDriftMs: clock.driftMs(),
      },
      comparisons,
      notes: [
        "t0 is taken just before one write(2) of the RFLink line (`20;XX;EV1527;ID=…;SWITCH=01;CMD=ON;`) to the receiver's end of a socat PTY pair: the socat hop stands in for the USB-serial adapter. A real transmitter repeats its line about three times; the gateway acts on the first, so one line is written.",
        "Committed = the relay's `alarm stored` log line, logged right after the commit transaction returned (pino `time`, whole milliseconds of the same wall clock as the bench's). The alarm's `receivedAt` (also the timeline's `stored` time) is taken when the message reaches the ingress, before the commit: it is reported as the `buttonToRelayIngressMs` stage, not as the commit.",
        "SSE = the first change of the alarm (its `raised` and `stored` changes come from one commit) read from `GET /api/alarms/stream` as the relay's staff user, stamped when the chunk arrived at the bench's socket (node:http, no EventSource layer).",
        `Background load, as interpreted here: ${p.backgroundHomes} simulated homes are contract gateways in a separate process (mqtt.js sessions on the relay's broker with their own ids and secrets, retained online status, a heartbeat every ${p.fleetHeartbeatIntervalS} s — a third of the default interval — spread over the interval) whose vitals (heart_rate, breath_rate, in_bed) are written as line protocol to the same InfluxDB once a second each; the measured home's own bed radar (the simulator's Seeed MR60BHA1 on a second PTY) streams through the gateway to InfluxDB.`,
        'Every alarm is resolved by the staff user once it is on the stream (a thousand open critical alarms would otherwise start escalating after 60 s); those API calls, and the acknowledged/resolved messages the relay then sends the gateway, are part of the load.',
        `Presses are open loop (on a fixed ${p.pressIntervalMs} ms schedule whatever the previous alarm is doing), rotating over ${p.buttons} buttons so no two presses of one button are within the SOS rule's 3 s repeat window (product defaults everywhere). ${p.warmupAlarms} warm-up presses first, reported apart.`,
        "The floor is a stand-alone aedes (same package and version, the product's listenAedes, plain node) with a mqtt.js publisher and subscriber in the bench process, probed half an interval after each press: the least one broker hop costs on this machine under the same load. The alarm path has one such hop (gateway → relay) plus two SQLite commits with synchronous=FULL (gateway outbox, relay store), so it cannot reach the floor.",
        'The machine is shared (2 cores, other jobs running): absolute times move from run to run; the ratio to the floor measured at the same moments moves less.',
      ],
    });
  } finally {
    const failures = await cleanup.runAll();
    for (const f of failures) ctx.say(`cleanup failed: ${f}`);
  }
}

const latency: Benchmark = { name: 'latency', title: 'Alarm latency', run };
export default latency;
