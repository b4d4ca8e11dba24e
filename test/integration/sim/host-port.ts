import { SerialPort } from 'serialport';

/**
 * The gateway's side of a PTY pair for tests: opens the host path with
 * `serialport`, collects every byte, and waits for what a test expects.
 */
export class HostPort {
  private readonly chunks: Buffer[] = [];
  private waiters: Array<() => void> = [];
  private constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
  }

  static async open(path: string, baudRate: number): Promise<HostPort> {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    return new HostPort(port);
  }

  /** Everything received so far. */
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  text(): string {
    return this.bytes().toString('latin1');
  }

  /** Forget what was received so far. */
  clear(): void {
    this.chunks.length = 0;
  }

  /** Resolve with `check(received)` once it is not undefined; reject after `timeoutMs`. */
  async waitFor<T>(check: (received: Buffer) => T | undefined, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = check(this.bytes());
      if (result !== undefined) return result;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out; received ${JSON.stringify(this.text().slice(-300))}`);
      }
      // Wake on new data, or poll: some conditions depend on things other than this port's bytes.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 25));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  write(bytes: Uint8Array | string): void {
    this.port.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes));
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

/** True while a process with this id exists. */
export function processAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
