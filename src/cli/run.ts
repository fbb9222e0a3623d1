import { ConfigError } from '../config/config-error.ts';
import { readEnvironment, type RawEnvironment } from '../config/env.ts';
import { parseCommandLine, type ParsedCommand } from './args.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, type CliIo } from './io.ts';
import { USAGE } from './usage.ts';

/**
 * Runs one CLI invocation. Resolves to an exit status, or undefined when a server was
 * started and keeps the process alive (it calls `exit` when it stops).
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  env: RawEnvironment,
  exit: (code: number) => void,
): Promise<number | undefined> {
  let command: ParsedCommand;
  try {
    command = parseCommandLine(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`stoa: ${error.message}`);
    io.err(USAGE);
    return EXIT_USAGE;
  }

  try {
    const environment = readEnvironment(env);
    switch (command.command) {
      case 'help':
        io.out(USAGE);
        return EXIT_OK;
      // Each command loads only what it needs: `stoa help` does not pull in the HTTP stack.
      case 'start':
        return await (await import('./commands/start.ts')).startCommand(command, environment, io, exit);
      case 'migrate':
        return await (await import('./commands/migrate.ts')).migrateCommand(command, environment, io);
      case 'generate-keys':
        return await (await import('./commands/generate-keys.ts')).generateKeysCommand(command, environment, io);
      case 'export-room':
        return await (await import('./commands/export-room.ts')).exportRoomCommand(command, environment, io);
      case 'verify-export':
        return await (await import('./commands/verify-export.ts')).verifyExportCommand(command, environment, io);
      case 'verify-audit-log':
        return await (await import('./commands/verify-audit-log.ts')).verifyAuditLogCommand(command, environment, io);
      case 'backup':
        return await (await import('./commands/backup.ts')).backupCommand(command, environment, io);
      case 'restore':
        return await (await import('./commands/backup.ts')).restoreCommand(command, environment, io);
    }
  } catch (error) {
    // Commands that parse their own options (export-room, verify-export) report them here.
    if (error instanceof UsageError) {
      io.err(`stoa: ${error.message}`);
      io.err(USAGE);
      return EXIT_USAGE;
    }
    // A config problem is the operator's to fix: one line, naming the key.
    if (error instanceof ConfigError) {
      io.err(error.message);
      return EXIT_USAGE;
    }
    io.err(`stoa: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_FAILURE;
  }
}
