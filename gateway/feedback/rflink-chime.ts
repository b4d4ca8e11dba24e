import { formatRflinkCommand, parseRflinkCommand } from '../devices/protocols/rflink/index.js';
import { FeedbackError, type ResidentNotifier } from './resident-notifier.js';

export interface RflinkChimeOptions {
  /** Default `rflink`. */
  name?: string;
  /** The transmit command as the RFLink manual writes it: `10;NewKaku;00c142;1;ON;`, `10;Byron;1234;01;`. */
  command: string;
  /** Writes to the RFLink serial port; false when the port is not open (`SerialLink.write`). */
  write: (bytes: Uint8Array) => boolean;
  timeoutMs?: number;
}

/**
 * The bytes to send for an RFLink transmit command: the command with its
 * final `;`, then CR LF (RFLink reads commands line by line).
 *
 * @throws RangeError when `command` is not `10;…;` printable ASCII.
 */
export function rflinkTransmitBytes(command: string): Uint8Array {
  const body = parseRflinkCommand(command);
  if (body === null || command.trim() !== command) {
    throw new RangeError(`not an RFLink command (10;…;): ${JSON.stringify(command)}`);
  }
  return Buffer.from(formatRflinkCommand(body), 'latin1');
}

/**
 * Rings a 433 MHz chime (or switches a light by the bed) through the RFLink
 * board's transmitter. Fire and forget: RFLink answers `20;xx;OK;`, but the
 * receiving chime confirms nothing, so a written command is a success.
 */
export class RflinkChime implements ResidentNotifier {
  readonly name: string;
  readonly timeoutMs: number | undefined;

  constructor(private readonly options: RflinkChimeOptions) {
    this.name = options.name ?? 'rflink';
    this.timeoutMs = options.timeoutMs;
  }

  async helpIsComing(): Promise<void> {
    const bytes = rflinkTransmitBytes(this.options.command);
    if (!this.options.write(bytes)) {
      throw new FeedbackError('the RFLink port is not open; the chime was not sent', { retriable: true });
    }
  }
}
