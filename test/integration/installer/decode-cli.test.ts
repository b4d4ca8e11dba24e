import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodeRecord } from '../../../gateway/installer/decode.js';
import { parseHex } from '../../../gateway/installer/decode.js';
import { REPO_ROOT, TSX_BIN } from '../../../tools/child-processes.js';

const execFileAsync = promisify(execFile);
const FALL_CAPTURE = 'test/fixtures/captures/mr60fda1-fall.hex';
const RFLINK_SESSION = 'test/fixtures/captures/rflink-session.txt';

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gateway/cli.ts` as an installer would (through tsx), from the repo root; never rejects. */
async function gatewayCli(args: string[], stdin?: string | Buffer): Promise<CliResult> {
  const child = execFileAsync(process.execPath, [TSX_BIN, 'gateway/cli.ts', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (stdin !== undefined) child.child.stdin?.end(stdin);
  else child.child.stdin?.end();
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Parses JSON Lines, failing on any line that is not one JSON object. */
function jsonLines(stdout: string): DecodeRecord[] {
  expect(stdout.endsWith('\n') || stdout === '').toBe(true);
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const value: unknown = JSON.parse(line);
      expect(typeof value === 'object' && value !== null && !Array.isArray(value), line).toBe(true);
      return value as DecodeRecord;
    });
}

function kinds(records: DecodeRecord[]): string[] {
  return records.map((r) => {
    if ('offset' in r) return r.ok ? r.report.type : r.reason;
    return r.ok ? r.message.kind : r.reason;
  });
}

describe('homebed-gateway decode', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'homebed-decode-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('decodes the MR60FDA1 fall capture file as JSON Lines, exit 0 despite the errors in it', async () => {
    const result = await gatewayCli(['decode', '--protocol', 'seeed-60ghz', '--file', FALL_CAPTURE]);
    expect(result.code).toBe(0);
    const records = jsonLines(result.stdout);
    expect(kinds(records)).toEqual([
      'noise',
      'product_model',
      'firmware_version',
      'presence',
      'motion',
      'body_movement',
      'body_movement',
      'checksum',
      'fall',
      'motion',
      'body_movement',
      'stationary_residency',
      'noise',
      'heartbeat',
      'timeout',
    ]);
    expect(records[8]).toEqual({
      ok: true,
      offset: 95,
      hex: '53 59 83 01 00 01 01 32 54 43',
      control: '83',
      command: '01',
      report: { type: 'fall', fallen: true },
    });
    expect(result.stderr).toBe('decoded 11 frames, 4 errors\n');
  });

  it('decodes the same capture given as raw bytes with --binary, and piped on stdin', async () => {
    const hexText = await readFile(join(REPO_ROOT, FALL_CAPTURE), 'utf8');
    const binary = join(dir, 'fall.bin');
    await writeFile(binary, parseHex(hexText));
    const fromText = await gatewayCli(['decode', '--protocol', 'seeed-60ghz', '--file', FALL_CAPTURE]);
    const fromBinary = await gatewayCli(['decode', '--protocol', 'seeed', '--file', binary, '--binary']);
    const fromStdin = await gatewayCli(['decode', '--protocol', 'seeed-60ghz', '--file', '-'], hexText);
    expect(fromBinary).toEqual(fromText);
    expect(fromStdin).toEqual(fromText);
  });

  it('decodes pasted hex (--hex) in the forms installers paste', async () => {
    for (const hex of [
      '53 59 85 02 00 01 48 7C 54 43',
      '535985020001487C5443',
      '0x53,0x59,0x85,0x02,0x00,0x01,0x48,0x7c,0x54,0x43',
    ]) {
      const result = await gatewayCli(['decode', '--protocol', 'seeed-60ghz', '--hex', hex]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(
        '{"ok":true,"offset":0,"hex":"53 59 85 02 00 01 48 7C 54 43","control":"85","command":"02","report":{"type":"heart_rate","bpm":72}}\n',
      );
    }
  });

  it('decodes the RFLink session file, and lines given with --text (real or \\n line breaks)', async () => {
    const result = await gatewayCli(['decode', '--protocol', 'rflink', '--file', RFLINK_SESSION]);
    expect(result.code).toBe(0);
    const records = jsonLines(result.stdout);
    expect(kinds(records)).toEqual([
      'banner',
      'version',
      'pong',
      'packet',
      'packet',
      'packet',
      'packet',
      'packet',
      'packet',
      'prefix',
      'packet',
      'packet',
    ]);
    expect(records[11]).toEqual({
      ok: true,
      line: 12,
      message: {
        kind: 'packet',
        counter: 10,
        protocol: 'EV1527',
        fields: { ID: '0b2c7', SWITCH: '01', CMD: 'ON', BAT: 'LOW' },
        id: '0b2c7',
        switch: '01',
        cmd: 'ON',
      },
    });
    expect(result.stderr).toBe('decoded 11 lines, 1 error\n');

    const escaped = await gatewayCli([
      'decode',
      '--protocol',
      'rflink',
      '--text',
      '20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;\\r\\n20;2E;PONG;',
    ]);
    const real = await gatewayCli([
      'decode',
      '--protocol',
      'rflink',
      '--text',
      '20;2D;EV1527;ID=0d3e4;SWITCH=01;CMD=ON;\n20;2E;PONG;',
    ]);
    expect(escaped.code).toBe(0);
    expect(kinds(jsonLines(escaped.stdout))).toEqual(['packet', 'pong']);
    expect(real.stdout).toBe(escaped.stdout);
  });

  it('refuses bad usage with HB_USAGE and exit 1, printing nothing on stdout', async () => {
    const cases: [string[], string][] = [
      [['decode', '--hex', '53 59'], 'decode needs --protocol seeed-60ghz or --protocol rflink'],
      [['decode', '--protocol', 'zigbee', '--hex', '53'], '(got "zigbee")'],
      [['decode', '--protocol', 'seeed-60ghz'], 'exactly one of --hex, --text or --file'],
      [
        ['decode', '--protocol', 'seeed-60ghz', '--hex', '53 5'],
        'odd number of hex digits at line 1, column 4',
      ],
      [['decode', '--protocol', 'seeed-60ghz', '--hex', '53 GG'], 'not hex at line 1, column 4: "GG"'],
      [['decode', '--protocol', 'rflink', '--hex', '53'], 'an rflink capture is text'],
      [['decode', '--protocol', 'seeed-60ghz', '--file', join(dir, 'nope.hex')], 'cannot read'],
    ];
    const results = await Promise.all(cases.map(([args]) => gatewayCli(args)));
    for (const [i, [args, message]] of cases.entries()) {
      const result = results[i] as CliResult;
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('error HB_USAGE: ');
      expect(result.stderr).toContain(message);
    }
  });

  it('--help lists decode and probe', async () => {
    const result = await gatewayCli(['--help']);
    expect(result.stdout).toContain('decode --protocol seeed-60ghz --hex');
    expect(result.stdout).toContain('probe [<port>…]');
  });
});
