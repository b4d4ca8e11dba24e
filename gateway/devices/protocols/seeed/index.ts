/** Seeed 60 GHz mmWave radar protocol (MR60FDA1, MR60BHA1): frame codec, stream framer, reports. */
export {
  encodeFrame,
  SEEED_FRAME_OVERHEAD,
  SEEED_HEADER,
  SEEED_TAIL,
  type SeeedFrame,
  seeedChecksum,
} from './frame.js';
export { type SeeedDropReason, SeeedFramer, type SeeedFramerOptions } from './framer.js';
export {
  decodeReport,
  type EncodableSeeedReport,
  encodeReport,
  isQuery,
  queryFirmwareVersion,
  queryProductModel,
  resetModule,
  type SeeedReport,
  type SeeedSleepState,
} from './reports.js';
