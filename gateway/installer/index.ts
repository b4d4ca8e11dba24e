/** Installer tools: offline decoding of serial captures, and probing a serial port for a known device. */
export {
  type CommandOutput,
  describeProbe,
  discoverSerialPorts,
  type InstallerOptions,
  runDecodeCommand,
  runProbeCommand,
} from './commands.js';
export {
  type DecodeRecord,
  decodeRflinkCapture,
  decodeSeeedCapture,
  formatHex,
  HexParseError,
  type JsonSeeedReport,
  parseHex,
  type RflinkDecodeRecord,
  type RflinkErrorRecord,
  type RflinkLineRecord,
  type SeeedDecodeRecord,
  type SeeedErrorRecord,
  type SeeedFrameRecord,
} from './decode.js';
export {
  DEFAULT_PROBE_TIMEOUT_MS,
  type ProbeOptions,
  type ProbeResult,
  probeSerialPort,
  RFLINK_BAUD_RATE,
  SEEED_BAUD_RATE,
} from './probe.js';
