import { ConfigError, HomebedError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Run a CLI's main function: configuration errors print their list of
 * problems and exit 2; other known errors print their code and exit 1.
 */
export function runCli(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof HomebedError) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

/** A signal repeated within this window is the same request (a wrapper such as tsx or npm relayed it). */
export const DUPLICATE_SIGNAL_WINDOW_MS = 1_500;

/**
 * Keep a started service running until SIGINT/SIGTERM/SIGHUP, then stop it
 * (once) and exit. A second signal (not a relayed duplicate), or a stop
 * that hangs, exits at once.
 */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, graceMs = 10_000): void {
  let stoppingSince: number | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppingSince !== null) {
      if (Date.now() - stoppingSince < DUPLICATE_SIGNAL_WINDOW_MS) return;
      process.exit(130);
    }
    stoppingSince = Date.now();
    logger.info({ signal }, 'stopping');
    const force = setTimeout(() => {
      logger.error('stop took too long; exiting');
      process.exit(1);
    }, graceMs);
    force.unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
}
