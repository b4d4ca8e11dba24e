import { SerialPort } from 'serialport';
import { HomebedError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ByteLink } from './link.js';

export interface SerialPortLinkOptions {
  /** Device path to open (the emulator's end of a PTY pair, or a real serial port). */
  path: string;
  /** Line speed. A PTY ignores it, but it is set as the real device would be. */
  baudRate: number;
  /** Where write and port errors go; they are logged, not thrown, because a device cannot report them. */
  logger?: Logger;
}

const DRAIN_TIMEOUT_MS = 500;

/** The serial port could not be opened or closed. */
export class SerialLinkError extends HomebedError {
  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super('HB_SIM_SERIAL', message, options);
  }
}

/**
 * A {@link ByteLink} over the `serialport` package: `open()`, then `write()` and
 * `onData()`, then `close()`. It moves bytes only.
 */
export class SerialPortLink implements ByteLink {
  private port: SerialPort | undefined;
  private readonly listeners = new Set<(bytes: Uint8Array) => void>();
  private readonly handleData = (chunk: Buffer): void => {
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (const cb of this.listeners) cb(bytes);
  };
  private readonly handleError = (err: Error): void => {
    this.options.logger?.warn({ err, path: this.options.path }, 'serial port error');
  };

  constructor(private readonly options: SerialPortLinkOptions) {}

  /** The path this link opens. */
  get path(): string {
    return this.options.path;
  }

  /** True between a successful `open()` and `close()`. */
  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** Open the port. Rejects with {@link SerialLinkError} (retriable) when the path cannot be opened. */
  async open(): Promise<void> {
    if (this.port) return;
    const port = new SerialPort({
      path: this.options.path,
      baudRate: this.options.baudRate,
      autoOpen: false,
    });
    await new Promise<void>((resolveOpen, rejectOpen) => {
      port.open((err) => {
        if (err) {
          rejectOpen(
            new SerialLinkError(`cannot open ${this.options.path}: ${err.message}`, {
              retriable: true,
              cause: err,
            }),
          );
        } else {
          resolveOpen();
        }
      });
    });
    port.on('data', this.handleData);
    port.on('error', this.handleError);
    this.port = port;
  }

  write(bytes: Uint8Array): void {
    const port = this.port;
    if (!port?.isOpen) {
      this.options.logger?.debug(
        { path: this.options.path, bytes: bytes.length },
        'write on a closed link dropped',
      );
      return;
    }
    port.write(Buffer.from(bytes), (err) => {
      if (err) this.handleError(err);
    });
  }

  onData(cb: (bytes: Uint8Array) => void): void {
    this.listeners.add(cb);
  }

  offData(cb: (bytes: Uint8Array) => void): void {
    this.listeners.delete(cb);
  }

  /** Flush pending writes, close the port and drop every listener. Idempotent. */
  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    this.listeners.clear();
    if (!port) return;
    port.off('data', this.handleData);
    if (port.isOpen) {
      // A host that never reads lets the PTY fill and tcdrain() block forever: bound the wait.
      await new Promise<void>((resolveDrain) => {
        const timer = setTimeout(resolveDrain, DRAIN_TIMEOUT_MS);
        port.drain(() => {
          clearTimeout(timer);
          resolveDrain();
        });
      });
      await new Promise<void>((resolveClose) => {
        port.close((err) => {
          if (err) this.handleError(err);
          resolveClose();
        });
      });
    }
    port.off('error', this.handleError);
  }
}
