// `stoa verify-audit-log [--config FILE] [--expect-head SEQ:HASH]`: re-walks the admin audit
// log's hash chain in the database (issue 8 item 6). Exit 0 when intact, 1 when an entry was
// altered or removed (or the recorded head is gone), 2 for a bad command line.

import { parseArgs } from 'node:util';
import { AuditLog } from '../../admin/audit-log/audit-log.ts';
import type { StoaEnvironment } from '../../config/env.ts';
import { loadConfig } from '../../config/load.ts';
import { createLogger } from '../../logger.ts';
import { openDatabase } from '../../storage/index.ts';
import type { ParsedCommand } from '../args.ts';
import { locateConfig } from '../config-location.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from '../io.ts';

export async function verifyAuditLogCommand(command: ParsedCommand, environment: StoaEnvironment, io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...(command.args ?? [])],
      options: { config: { type: 'string', short: 'c' }, 'expect-head': { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`verify-audit-log: ${(error as Error).message}`);
  }
  const headText = values['expect-head'];
  const match = headText === undefined ? null : /^(\d+):([0-9a-f]{64})$/.exec(headText);
  if (headText !== undefined && match === null) throw new UsageError('verify-audit-log: --expect-head must be SEQ:HASH as a previous run printed it');
  const config = await loadConfig((await locateConfig(values.config, environment, false)).path);
  const db = await openDatabase(config.database, { logger: createLogger(environment.logLevel ?? 'error') });
  try {
    const verdict = await new AuditLog(db).verify(match === null ? undefined : { seq: Number(match[1]), hash: match[2] ?? '' });
    for (const problem of verdict.problems) io.out(`  entry ${problem.seq}: ${problem.message}`);
    io.out(
      verdict.ok
        ? `VERIFIED: ${verdict.entries} audit log entries, chain intact; head ${verdict.head.seq}:${verdict.head.hash} (record it to detect truncation later)`
        : `FAILED: ${verdict.problems.length} problem(s) in ${verdict.entries} audit log entries`,
    );
    return verdict.ok ? EXIT_OK : EXIT_FAILURE;
  } finally {
    await db.close();
  }
}
