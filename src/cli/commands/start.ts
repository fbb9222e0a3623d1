import path from 'node:path';
import type { StoaEnvironment } from '../../config/env.ts';
import { ConfigError } from '../../config/config-error.ts';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../logger.ts';
import type { ParsedCommand } from '../args.ts';
import { locateConfig } from '../config-location.ts';
import { EXIT_FAILURE, type CliIo } from '../io.ts';
import { stopOnSignals } from '../shutdown.ts';

/** Runs the homeserver. Resolves undefined while it runs; a status when it failed to start. */
export async function startCommand(
  command: ParsedCommand,
  environment: StoaEnvironment,
  io: CliIo,
  exit: (code: number) => void,
): Promise<number | undefined> {
  const location = await locateConfig(command.config, environment, true);
  const loaded = await loadConfig(location.path);
  const config = {
    ...loaded,
    cluster: {
      ...loaded.cluster,
      ...(command.role === undefined ? {} : { role: command.role }),
      ...(command.federationShard === undefined
        ? {}
        : { federation_sender_index: command.federationShard.index, federation_sender_instances: command.federationShard.instances }),
    },
  };
  const logger = createLogger(environment.logLevel ?? config.log_level);
  if (location.generated) {
    logger.info(
      { config_path: path.resolve(location.path) },
      'first start: generated a configuration; edit it (see homeserver.example.yaml) and restart',
    );
  } else {
    logger.info({ config_path: path.resolve(location.path) }, 'configuration loaded');
  }

  try {
    // Loaded after the config is known good: a config mistake is reported without first
    // loading the database engine and the HTTP stack.
    const { startServer } = await import('../../main.ts');
    const server = await startServer(config, logger);
    stopOnSignals(server, logger, exit);
    return undefined;
  } catch (error) {
    // A config problem found at start (an application service registration) exits 2 as well.
    if (error instanceof ConfigError) throw error;
    logger.fatal({ err: error }, 'failed to start');
    io.err(`stoa: failed to start: ${(error as Error).message}`);
    return EXIT_FAILURE;
  }
}
