import type { RflinkMessage } from '../protocols/rflink/index.js';

type Packet = Extract<RflinkMessage, { kind: 'packet' }>;

/**
 * Device definition for 433 MHz EV1527 / PT2262 buttons received by RFLink:
 * a packet with `CMD=ON` (or no command, as some cheap buttons send) is a
 * press; `OFF` is the release some remotes send and is not a press.
 */
export function isButtonPress(packet: Packet): boolean {
  const cmd = packet.cmd?.toUpperCase();
  return cmd === undefined || cmd === 'ON' || cmd === 'ALLON';
}
