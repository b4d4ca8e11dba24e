import { SerialPort } from 'serialport';
import type { Clock, TimerHandle } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import { TypedEmitter } from '../../common/typed-emitter.js';

export interface SerialLinkOptions {
  id: string;
  path: string;
  baudRate: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  random?: () => number;
}

export interface SerialLinkEvents {
  open: undefined;
  close: { reason: string };
  data: Uint8Array;
}

export type SerialLinkState = 'open' | 'closed';

/**
 * One serial port, kept open: a port missing at start or unplugged while
 * running is retried with exponential backoff and jitter, forever. It moves
 * bytes only; it knows nothing of frames, devices or alarms.
 */
export class SerialLink {
  readonly events: TypedEmitter<SerialLinkEvents>;
  private port: SerialPort | null = null;
  private retryTimer: TimerHandle | null = null;
  private failures = 0;
  private stopped = true;
  private lastError = '';

  constructor(
    private readonly options: SerialLinkOptions,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.events = new TypedEmitter((event, err) => logger.error({ err, event }, 'serial listener failed'));
  }

  get state(): SerialLinkState {
    return this.port?.isOpen ? 'open' : 'closed';
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.retryTimer?.cancel();
    this.retryTimer = null;
    const port = this.port;
    this.port = null;
    if (port?.isOpen) {
      await new Promise<void>((resolve) => port.close(() => resolve()));
    }
    port?.removeAllListeners();
  }

  /** Write bytes; false when the port is not open (the caller decides whether that matters). */
  write(bytes: Uint8Array): boolean {
    const port = this.port;
    if (!port?.isOpen) return false;
    port.write(Buffer.from(bytes));
    return true;
  }

  private open(): void {
    if (this.stopped) return;
    const port = new SerialPort({
      path: this.options.path,
      baudRate: this.options.baudRate,
      autoOpen: false,
    });
    this.port = port;
    port.open((err) => {
      if (this.stopped || this.port !== port) {
        if (!err) port.close();
        return;
      }
      if (err) {
        this.port = null;
        // Log the first failure and every change of reason; a missing port retried all night must not flood the log.
        if (err.message !== this.lastError) {
          this.logger.warn(
            { path: this.options.path, err: err.message },
            'serial port cannot be opened; retrying',
          );
          this.lastError = err.message;
        }
        this.scheduleReopen();
        return;
      }
      this.failures = 0;
      this.lastError = '';
      this.logger.info({ path: this.options.path, baudRate: this.options.baudRate }, 'serial port open');
      port.on('data', (chunk: Buffer) => this.events.emit('data', new Uint8Array(chunk)));
      port.on('close', (closeErr: (Error & { disconnected?: boolean }) | null) => {
        if (this.port !== port) return;
        this.port = null;
        const reason = closeErr?.disconnected ? 'disconnected' : closeErr ? closeErr.message : 'closed';
        this.logger.warn({ path: this.options.path, reason }, 'serial port closed');
        port.removeAllListeners();
        this.events.emit('close', { reason });
        this.scheduleReopen();
      });
      port.on('error', (portErr: Error) => {
        this.logger.warn({ path: this.options.path, err: portErr.message }, 'serial port error');
      });
      this.events.emit('open', undefined);
    });
  }

  private scheduleReopen(): void {
    if (this.stopped) return;
    this.failures++;
    const base = Math.min(
      this.options.reconnectMaxMs,
      this.options.reconnectInitialMs * 2 ** (this.failures - 1),
    );
    const delay = Math.round(base * (0.8 + 0.4 * (this.options.random ?? Math.random)()));
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = null;
      this.open();
    }, delay);
  }
}
