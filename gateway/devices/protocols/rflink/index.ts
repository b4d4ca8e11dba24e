/** RFLink 433 MHz gateway serial protocol: line framer and line/command codec. */
export {
  formatRflinkCommand,
  formatRflinkLine,
  parseRflinkCommand,
  parseRflinkLine,
  type RflinkMessage,
  RflinkParseError,
  type RflinkParseReason,
  rflinkDeviceKey,
} from './codec.js';
export { LineFramer, type LineFramerOptions } from './line-framer.js';
