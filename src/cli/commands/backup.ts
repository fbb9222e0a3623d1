// `stoa backup --out FILE` and `stoa restore --from FILE` for the embedded database (issue 12
// item 4). The server must be stopped: both take the data directory's lock. PostgreSQL
// deployments back up with pg_dump, which works on a running server; we say so rather than
// wrap it.

import { parseArgs } from 'node:util';
import type { StoaEnvironment } from '../../config/env.ts';
import { loadConfig } from '../../config/load.ts';
import { BackupError, backupPGlite, restorePGlite } from '../../storage/pglite-backup.ts';
import { DirectoryLockedError } from '../../storage/directory-lock.ts';
import type { ParsedCommand } from '../args.ts';
import { locateConfig } from '../config-location.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from '../io.ts';

const POSTGRES_ADVICE =
  'database.engine is postgres: back up with `pg_dump --format=custom` and restore with `pg_restore` (see README, "Backup and restore")';

export async function backupCommand(command: ParsedCommand, environment: StoaEnvironment, io: CliIo): Promise<number> {
  const values = parse('backup', command, 'out');
  return withPGliteDir(values.config, environment, io, async (dataDir) => {
    const { bytes } = await backupPGlite(dataDir, values.file);
    io.out(`backed up ${dataDir} to ${values.file} (${bytes} bytes); also keep the signing key and the media directory`);
  });
}

export async function restoreCommand(command: ParsedCommand, environment: StoaEnvironment, io: CliIo): Promise<number> {
  const values = parse('restore', command, 'from');
  return withPGliteDir(values.config, environment, io, async (dataDir) => {
    await restorePGlite(values.file, dataDir);
    io.out(`restored ${values.file} into ${dataDir}; \`stoa start\` applies any newer migrations`);
  });
}

/** Runs `operation` on the config's PGlite data directory; PostgreSQL gets the pg_dump advice. */
async function withPGliteDir(
  configPath: string | undefined,
  environment: StoaEnvironment,
  io: CliIo,
  operation: (dataDir: string) => Promise<void>,
): Promise<number> {
  const config = await loadConfig((await locateConfig(configPath, environment, false)).path);
  const database = config.database;
  if (database.engine !== 'pglite') {
    io.err(`stoa: ${POSTGRES_ADVICE}`);
    return EXIT_FAILURE;
  }
  return report(io, () => operation(database.path));
}

function parse(name: string, command: ParsedCommand, fileOption: 'out' | 'from'): { config: string | undefined; file: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...(command.args ?? [])],
      options: { config: { type: 'string', short: 'c' }, [fileOption]: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${name}: ${(error as Error).message}`);
  }
  const file = values[fileOption];
  if (typeof file !== 'string' || file === '') throw new UsageError(`${name}: --${fileOption} FILE is required`);
  return { config: typeof values.config === 'string' ? values.config : undefined, file };
}

async function report(io: CliIo, run: () => Promise<void>): Promise<number> {
  try {
    await run();
    return EXIT_OK;
  } catch (error) {
    if (error instanceof BackupError || error instanceof DirectoryLockedError) {
      io.err(`stoa: ${error.message}${error instanceof DirectoryLockedError ? ' (stop the server first)' : ''}`);
      return EXIT_FAILURE;
    }
    throw error;
  }
}
