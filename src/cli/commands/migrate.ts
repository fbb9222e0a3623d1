import type { StoaEnvironment } from '../../config/env.ts';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../logger.ts';
import { migrateToLatest, openDatabase } from '../../storage/index.ts';
import type { ParsedCommand } from '../args.ts';
import { locateConfig } from '../config-location.ts';
import { EXIT_FAILURE, EXIT_OK, type CliIo } from '../io.ts';

/** Applies pending migrations, reports each on stdout, and exits. */
export async function migrateCommand(command: ParsedCommand, environment: StoaEnvironment, io: CliIo): Promise<number> {
  const location = await locateConfig(command.config, environment, false);
  const config = await loadConfig(location.path);
  const logger = createLogger(environment.logLevel ?? config.log_level);
  const db = await openDatabase(config.database, { logger });
  try {
    const report = await migrateToLatest(db);
    if (report.results.length === 0) io.out('the database schema is up to date');
    for (const outcome of report.results) io.out(`${outcome.status}\t${outcome.name}`);
    if (report.error !== undefined) {
      io.err(`stoa: migration failed: ${report.error.message}`);
      return EXIT_FAILURE;
    }
    return EXIT_OK;
  } finally {
    await db.close();
  }
}
