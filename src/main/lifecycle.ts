import type { Logger } from '../logger.js';

/**
 * Runs `shutdown` once on SIGINT/SIGTERM; a second signal while it runs forces the exit. Ctrl-C
 * reaches us both from the terminal and relayed by wrappers (npm, tsx), so a repeat within two
 * seconds is the same request, not a second one.
 */
export function onShutdownSignal(logger: Logger, shutdown: () => Promise<void>): void {
  let stoppingSince: number | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince < 2_000) return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stoppingSince = Date.now();
    logger.info({ signal }, 'shutting down');
    shutdown().then(
      () => {
        process.exitCode = 0;
        setTimeout(() => process.exit(), 1_000).unref();
      },
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
        setTimeout(() => process.exit(), 1_000).unref();
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** Prints a start-up failure as a message a person can act on, then exits non-zero. */
export function failStartup(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`\nservicetitan-sync could not start:\n${message}\n`);
  process.exit(1);
}
