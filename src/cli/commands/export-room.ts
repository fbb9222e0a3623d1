// `stoa export-room`: a verifiable audit export of one room, or of every room of a custodian
// (issue 8 item 1). Reads the database and the signing key; writes a bundle directory.

import { readFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLog } from '../../admin/audit-log/audit-log.ts';
import { exportCustodian, ExportError, exportRoom, type ExportDeps, type ExportSummary } from '../../admin/export/exporter.ts';
import type { StoaEnvironment } from '../../config/env.ts';
import { loadConfig } from '../../config/load.ts';
import { parseSigningKeyFile } from '../../crypto/signing-key.ts';
import { createLogger } from '../../logger.ts';
import { Roomserver } from '../../roomserver/index.ts';
import { openDatabase } from '../../storage/index.ts';
import type { ParsedCommand } from '../args.ts';
import { locateConfig } from '../config-location.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from '../io.ts';

interface ExportArgs {
  readonly config: string | undefined;
  readonly room: string | undefined;
  readonly user: string | undefined;
  readonly out: string;
  readonly sinceTs: number | undefined;
  readonly untilTs: number | undefined;
}

export async function exportRoomCommand(command: ParsedCommand, environment: StoaEnvironment, io: CliIo): Promise<number> {
  const args = parseExportArgs(command.args ?? []);
  const location = await locateConfig(args.config, environment, false);
  const config = await loadConfig(location.path);
  const signingKey = await readSigningKey(config.signing_key_path);
  // JSON logs would mix with the report on stdout: only errors, on stderr's behalf.
  const logger = createLogger(environment.logLevel ?? 'error');
  const db = await openDatabase(config.database, { logger });
  try {
    const roomserver = new Roomserver({ db, serverName: config.server_name, signingKey, logger });
    const deps: ExportDeps = {
      db,
      serverName: config.server_name,
      signingKey,
      oldVerifyKeys: config.old_signing_keys,
      stateBefore: (eventId) => roomserver.stateAt(eventId, 'before'),
    };
    const range = {
      ...(args.sinceTs === undefined ? {} : { sinceTs: args.sinceTs }),
      ...(args.untilTs === undefined ? {} : { untilTs: args.untilTs }),
    };
    const started = performance.now();
    const summaries: ExportSummary[] =
      args.room !== undefined
        ? [await exportRoom(deps, { roomId: args.room, outDir: args.out, ...range })]
        : await exportCustodian(deps, { userId: args.user ?? '', outDir: args.out, ...range });
    const seconds = (performance.now() - started) / 1000;
    await new AuditLog(db).append({
      actor: `cli:${userInfo().username}`,
      action: args.room !== undefined ? 'export-room' : 'export-custodian',
      target: args.room ?? args.user ?? null,
      origin: `cli@${hostname()}`,
      details: {
        out: path.resolve(args.out),
        since_ts: args.sinceTs ?? null,
        until_ts: args.untilTs ?? null,
        bundles: summaries.map(({ manifest }) => ({ room_id: manifest.scope.room_id, events: manifest.counts.events, chain_head: manifest.hash_chain.head })),
      },
    });
    let total = 0;
    for (const { dir, manifest } of summaries) {
      total += manifest.counts.events;
      io.out(
        `exported ${manifest.counts.events} events and ${manifest.counts.state_events} state events of ${manifest.scope.room_id} to ${path.resolve(dir)} (chain head ${manifest.hash_chain.head})`,
      );
      if (manifest.encryption.encrypted) io.out(`  ${manifest.encryption.note}`);
    }
    io.out(`${total} events in ${seconds.toFixed(1)} s; check with: stoa verify-export ${path.resolve(args.out)} --expect-key ${signingKey.keyId}=${signingKey.publicKeyBase64}`);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof ExportError) {
      io.err(`stoa: export failed: ${error.message}`);
      return EXIT_FAILURE;
    }
    throw error;
  } finally {
    await db.close();
  }
}

function parseExportArgs(argv: readonly string[]): ExportArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        config: { type: 'string', short: 'c' },
        room: { type: 'string' },
        user: { type: 'string' },
        out: { type: 'string', short: 'o' },
        since: { type: 'string' },
        until: { type: 'string' },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`export-room: ${(error as Error).message}`);
  }
  if ((values.room === undefined) === (values.user === undefined)) throw new UsageError('export-room: give either --room ROOM_ID or --user USER_ID');
  if (values.out === undefined || values.out === '') throw new UsageError('export-room: --out DIR is required');
  return {
    config: values.config,
    room: values.room,
    user: values.user,
    out: values.out,
    sinceTs: values.since === undefined ? undefined : parseTime('--since', values.since),
    untilTs: values.until === undefined ? undefined : parseTime('--until', values.until),
  };
}

/** Milliseconds since the epoch, or an ISO 8601 date/time (`2025-03-01`, `2025-03-01T12:00:00Z`). */
export function parseTime(option: string, text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) {
    throw new UsageError(`export-room: ${option} must be an ISO 8601 date or milliseconds since the epoch, not "${text}"`);
  }
  return ms;
}

async function readSigningKey(file: string) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ExportError(`cannot read the signing key ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}): the manifest must be signed with the server's key`);
  }
  const [key] = parseSigningKeyFile(text);
  if (key === undefined) throw new ExportError(`the signing key file ${file} holds no key`);
  return key;
}
