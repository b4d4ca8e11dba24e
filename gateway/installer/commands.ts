import { readdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { HomebedError } from '../../common/errors.js';
import { type DecodeRecord, decodeRflinkCapture, decodeSeeedCapture, parseHex } from './decode.js';
import { DEFAULT_PROBE_TIMEOUT_MS, type ProbeResult, probeSerialPort } from './probe.js';

/**
 * The installer subcommands of the gateway CLI (`decode`, `probe`): argument checks, input and output.
 * The work is done by `decode.ts` and `probe.ts`; this module only reads files and writes lines, so the
 * CLI stays a dispatcher.
 */

/** Where a command writes: stdout gets machine-readable JSON Lines, stderr the human summary. */
export interface CommandOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The options of the gateway CLI that the installer commands read (as `node:util` parseArgs gives them). */
export interface InstallerOptions {
  protocol?: string | undefined;
  hex?: string | undefined;
  text?: string | undefined;
  file?: string | undefined;
  binary?: boolean | undefined;
  'timeout-ms'?: string | undefined;
}

/** Protocol names `decode --protocol` accepts; `seeed` and `rflink` are also the config's names. */
const SEEED_NAMES = new Set(['seeed-60ghz', 'seeed']);
const RFLINK_NAME = 'rflink';

/** Where `probe` without a port looks: stable names first, so a device is reported under its by-id name. */
const BY_ID_DIR = '/dev/serial/by-id';
const DEV_DIR = '/dev';
const USB_SERIAL_NAME = /^tty(?:USB|ACM)\d+$/;

/**
 * `decode --protocol seeed-60ghz|rflink (--hex <bytes> | --text <lines> | --file <path> [--binary])`:
 * prints one JSON record per decoded frame or line and per problem (JSON Lines), and a count on stderr.
 * Problems in the capture are records, not failures: the exit status is 0 unless the command itself is
 * wrong (unknown protocol, unreadable file, hex that is not hex), which throws a `HB_USAGE` error.
 */
export async function runDecodeCommand(options: InstallerOptions, out: CommandOutput): Promise<void> {
  const protocol = options.protocol;
  const sources = (['hex', 'text', 'file'] as const).filter((name) => options[name] !== undefined);
  if (sources.length !== 1) {
    throw usage(`decode needs exactly one of --hex, --text or --file (got ${sources.length})`);
  }
  let records: DecodeRecord[];
  if (protocol !== undefined && SEEED_NAMES.has(protocol)) {
    if (options.text !== undefined) throw usage('a seeed-60ghz capture is bytes: use --hex or --file');
    if (options.binary) {
      if (options.file === undefined) throw usage('--binary applies to --file only');
      records = decodeSeeedCapture(await readInput(options.file));
    } else {
      records = decodeSeeedCapture(
        parseHexOrUsage(options.hex ?? (await readInput(options.file as string)).toString('utf8')),
      );
    }
  } else if (protocol === RFLINK_NAME) {
    if (options.hex !== undefined) throw usage('an rflink capture is text: use --text or --file');
    if (options.binary) throw usage('--binary applies to --protocol seeed-60ghz only');
    // `--text` may carry the two characters \n (a shell string without $'…'); a real backslash never
    // appears in RFLink output, so they can only mean a line break.
    const text =
      options.text !== undefined
        ? options.text.replace(/\\r/g, '').replace(/\\n/g, '\n')
        : (await readInput(options.file as string)).toString('latin1');
    records = decodeRflinkCapture(text);
  } else {
    throw usage(
      `decode needs --protocol seeed-60ghz or --protocol rflink${protocol === undefined ? '' : ` (got ${JSON.stringify(protocol)})`}`,
    );
  }
  for (const record of records) out.stdout(`${JSON.stringify(record)}\n`);
  const errors = records.filter((r) => !r.ok).length;
  const unit = protocol === RFLINK_NAME ? 'line' : 'frame';
  out.stderr(
    `decoded ${records.length - errors} ${unit}${records.length - errors === 1 ? '' : 's'}, ${errors} error${errors === 1 ? '' : 's'}\n`,
  );
}

/**
 * `probe [<port>…] [--timeout-ms <ms>]`: probes the ports at once (each on its own budget) and prints one
 * JSON object per port on stdout, in the order given, and one human line per port on stderr. Without a
 * port it probes every `/dev/serial/by-id/*` and the `/dev/ttyUSB*` / `/dev/ttyACM*` not already reached
 * through a by-id link (probing one device twice at once would fail on the port lock). Exit status 0:
 * what was found is in the output.
 */
export async function runProbeCommand(
  ports: readonly string[],
  options: InstallerOptions,
  out: CommandOutput,
): Promise<ProbeResult[]> {
  const timeoutMs = parseTimeout(options['timeout-ms']);
  const paths = ports.length > 0 ? [...ports] : await discoverSerialPorts();
  if (paths.length === 0) {
    out.stderr(`no serial port found in ${BY_ID_DIR}, ${DEV_DIR}/ttyUSB* or ${DEV_DIR}/ttyACM*\n`);
    return [];
  }
  const results = await Promise.all(paths.map((path) => probeSerialPort(path, { timeoutMs })));
  for (const result of results) out.stdout(`${JSON.stringify(result)}\n`);
  for (const result of results) out.stderr(`${describeProbe(result)}\n`);
  return results;
}

/** One line an installer can read: what is on the port, and at which speed to configure it. */
export function describeProbe(result: ProbeResult): string {
  switch (result.kind) {
    case 'seeed': {
      const model = result.model ?? 'model not reported';
      const firmware = result.firmware === undefined ? '' : `, firmware ${result.firmware}`;
      return `${result.path}: Seeed 60 GHz radar ${model}${firmware} (protocol seeed, ${result.baudRate} baud)`;
    }
    case 'rflink': {
      const version =
        result.version === undefined
          ? (result.banner ?? 'version not reported')
          : `version ${result.version} rev ${result.revision ?? '?'} build ${result.build ?? '?'}`;
      return `${result.path}: RFLink 433 MHz gateway, ${version} (protocol rflink, ${result.baudRate} baud)`;
    }
    case 'unknown':
      return `${result.path}: nothing recognised at ${result.tried.join(' or ')} baud (${result.bytesSeen} bytes received)`;
    case 'error':
      return `${result.path}: ${result.error}`;
  }
}

/** The serial ports `probe` looks at by default (see {@link runProbeCommand}). */
export async function discoverSerialPorts(): Promise<string[]> {
  const paths: string[] = [];
  const reached = new Set<string>();
  for (const name of (await listDir(BY_ID_DIR)).sort()) {
    const path = join(BY_ID_DIR, name);
    paths.push(path);
    try {
      reached.add(await realpath(path));
    } catch {
      // A dangling link (device just unplugged): probing it will report the error.
    }
  }
  const devices = (await listDir(DEV_DIR)).filter((name) => USB_SERIAL_NAME.test(name));
  devices.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  for (const name of devices) {
    const path = join(DEV_DIR, name);
    if (!reached.has(path)) paths.push(path);
  }
  return paths;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

/** `-` is stdin, so a capture can be piped in. */
async function readInput(file: string): Promise<Buffer> {
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    return await readFile(file);
  } catch (err) {
    throw usage(`cannot read ${file}: ${(err as Error).message}`);
  }
}

function parseHexOrUsage(text: string): Uint8Array {
  try {
    return parseHex(text);
  } catch (err) {
    throw usage(`${(err as Error).message}; for a raw binary capture use --file <path> --binary`);
  }
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PROBE_TIMEOUT_MS;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) {
    throw usage(`--timeout-ms must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

function usage(message: string): HomebedError {
  return new HomebedError('HB_USAGE', message);
}
