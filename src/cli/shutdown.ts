import type { Logger } from '../logger.ts';
import type { RunningServer } from '../main.ts';
import { EXIT_FAILURE, EXIT_OK } from './io.ts';

/**
 * On SIGTERM or SIGINT: stop accepting, drain in-flight requests, close the database, then
 * exit 0. A second signal while draining exits at once with status 1.
 */
export function stopOnSignals(server: RunningServer, logger: Logger, exit: (code: number) => void): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while shutting down: exiting without waiting');
      exit(EXIT_FAILURE);
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    server.close().then(
      () => {
        logger.info('stopped');
        exit(EXIT_OK);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
