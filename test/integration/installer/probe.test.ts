import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../common/clock.js';
import { MR60BHA1_DEFAULT_FIRMWARE, Mr60bha1Emulator } from '../../../firmware-sim/devices/mr60bha1.js';
import { RflinkEmulator } from '../../../firmware-sim/devices/rflink-receiver.js';
import { createPtyPair, type PtyPair } from '../../../firmware-sim/links/pty.js';
import { SerialPortLink } from '../../../firmware-sim/links/serial-port-link.js';
import { type ProbeResult, probeSerialPort } from '../../../gateway/installer/probe.js';
import { REPO_ROOT, TSX_BIN } from '../../../tools/child-processes.js';
import { HostPort } from '../sim/host-port.js';

const run = promisify(execFile);

/**
 * `probeSerialPort` and `homebed-gateway probe` against the simulator's emulators on real PTY pairs (socat),
 * a PTY with nobody on the other end, a port held by another program, and a missing path.
 */
describe('probe over real PTY pairs', () => {
  let dir: string;
  const cleanup: Array<() => Promise<void> | void> = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homebed-probe-'));
  });

  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
    await rm(dir, { recursive: true, force: true });
  });

  /** A PTY pair whose device end is opened (as the simulator does) at `baudRate`. */
  async function pty(name: string, baudRate: number): Promise<{ pair: PtyPair; link: SerialPortLink }> {
    const pair = await createPtyPair({ devicePath: join(dir, `sim-${name}`), hostPath: join(dir, name) });
    cleanup.push(() => pair.close());
    const link = new SerialPortLink({ path: pair.devicePath, baudRate });
    await link.open();
    cleanup.push(() => link.close());
    return { pair, link };
  }

  async function radar(): Promise<PtyPair> {
    const { pair, link } = await pty('radar', 115200);
    const emulator = new Mr60bha1Emulator({ link, clock: systemClock });
    emulator.start();
    cleanup.push(() => emulator.stop());
    return pair;
  }

  async function rflink(): Promise<PtyPair> {
    const { pair, link } = await pty('rflink', 57600);
    const emulator = new RflinkEmulator({ link, clock: systemClock });
    emulator.start();
    cleanup.push(() => emulator.stop());
    return pair;
  }

  async function timed(path: string, timeoutMs?: number): Promise<{ result: ProbeResult; ms: number }> {
    const started = Date.now();
    const result = await probeSerialPort(path, timeoutMs === undefined ? {} : { timeoutMs });
    return { result, ms: Date.now() - started };
  }

  it('identifies the MR60BHA1 emulator with its model and firmware', async () => {
    const pair = await radar();
    const { result, ms } = await timed(pair.hostPath);
    expect(result).toEqual({
      path: pair.hostPath,
      kind: 'seeed',
      baudRate: 115200,
      model: 'MR60BHA1',
      firmware: MR60BHA1_DEFAULT_FIRMWARE,
    });
    expect(MR60BHA1_DEFAULT_FIRMWARE).toBe('G60SM1SYv010009');
    // Both replies are in: the probe stops waiting at once.
    expect(ms).toBeLessThan(1000);
  });

  it('identifies the RFLink emulator by its VERSION reply', async () => {
    const pair = await rflink();
    const { result, ms } = await timed(pair.hostPath);
    expect(result).toMatchObject({
      path: pair.hostPath,
      kind: 'rflink',
      baudRate: 57600,
      version: '1.1',
      revision: '48',
      build: '04',
    });
    expect(ms).toBeLessThan(3200);
  });

  it('reports unknown, within the budget, when nothing answers', async () => {
    const { pair } = await pty('silent', 115200);
    const { result, ms } = await timed(pair.hostPath);
    expect(result).toEqual({ path: pair.hostPath, kind: 'unknown', tried: [115200, 57600], bytesSeen: 0 });
    expect(ms).toBeLessThanOrEqual(3500);
    expect(ms).toBeGreaterThanOrEqual(2500);
  });

  it('does not take its own queries echoed back (a loopback plug) for a radar or an RFLink', async () => {
    const { pair, link } = await pty('loopback', 115200);
    link.onData((bytes) => link.write(bytes));
    const { result } = await probeSerialPort(pair.hostPath, { timeoutMs: 1500 }).then((r) => ({ result: r }));
    expect(result).toMatchObject({ kind: 'unknown', tried: [115200, 57600] });
    expect(result.kind === 'unknown' && result.bytesSeen).toBeGreaterThan(20);
  });

  it('reports a missing path and a port another program holds as errors, without throwing', async () => {
    const missing = join(dir, 'ttyUSB-missing');
    expect(await probeSerialPort(missing)).toEqual({
      path: missing,
      kind: 'error',
      error: `ENOENT: no such file or directory, stat '${missing}'`,
    });

    const { pair } = await pty('held', 115200);
    const holder = await HostPort.open(pair.hostPath, 115200);
    cleanup.push(() => holder.close());
    const { result, ms } = await timed(pair.hostPath);
    expect(result).toMatchObject({ path: pair.hostPath, kind: 'error' });
    expect(result.kind === 'error' && result.error).toMatch(
      /lock.*is the gateway or a terminal program using it/i,
    );
    expect(ms).toBeLessThan(1000);

    expect(await probeSerialPort(dir)).toMatchObject({
      kind: 'error',
      error: expect.stringMatching(/not a serial device/),
    });
  });

  it('the CLI probes several ports at once: one JSON line each, in order, and a human line each on stderr', async () => {
    const bed = await radar();
    const receiver = await rflink();
    const missing = join(dir, 'gone');
    const started = Date.now();
    const { stdout, stderr } = await run(
      process.execPath,
      [TSX_BIN, 'gateway/cli.ts', 'probe', bed.hostPath, receiver.hostPath, missing],
      { cwd: REPO_ROOT },
    );
    // Probed in parallel: about one budget (3 s), not three, plus the CLI's start-up.
    expect(Date.now() - started).toBeLessThan(8000);
    const results = stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as ProbeResult);
    expect(results.map((r) => [r.path, r.kind])).toEqual([
      [bed.hostPath, 'seeed'],
      [receiver.hostPath, 'rflink'],
      [missing, 'error'],
    ]);
    expect(results[0]).toMatchObject({ model: 'MR60BHA1', firmware: 'G60SM1SYv010009' });
    expect(results[1]).toMatchObject({ version: '1.1', revision: '48', build: '04' });
    expect(stderr).toContain(
      `${bed.hostPath}: Seeed 60 GHz radar MR60BHA1, firmware G60SM1SYv010009 (protocol seeed, 115200 baud)`,
    );
    expect(stderr).toContain(
      `${receiver.hostPath}: RFLink 433 MHz gateway, version 1.1 rev 48 build 04 (protocol rflink, 57600 baud)`,
    );
    expect(stderr).toContain(`${missing}: ENOENT: no such file or directory`);
  });
});
