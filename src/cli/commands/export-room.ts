// `stoa export-room`: a verifiable audit export of one room, or of every room of a custodian
// (issue 8 item 1). Reads the database and the signing key; writes a bundle directory, or
// with --archive one .tar file holding the bundle.

import { readFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLog } from '../../admin/audit-log/audit-log.ts';
import { bundleMediaSource } from '../../admin/compliance-api/index.ts';
import { exportRoomArchive } from '../../admin/export/archive.ts';
import { exportCustodian, ExportError, exportRoom, type ExportDeps, type ExportSummary } from '../../admin/export/exporter.ts';
import type { StoaEnvironment } from '../../config/env.ts';
import { loadConfig } from '../../config/load.ts';
import { parseSigningKeyFile } from '../../crypto/signing-key.ts';
import { createLogger } from '../../logger.ts';
import { createMedia, type Media } from '../../media/index.ts';
import { Roomserver } from '../../roomserver/index.ts';
import { openDatabase } from '../../storage/index.ts';
import type { ParsedCommand } from '../args.ts';
import { locateConfig } from '../config-location.ts';
import { EXIT_FAILURE, EXIT_OK, UsageError, type CliIo } from '../io.ts';

interface ExportArgs {
  readonly config: string | undefined;
  readonly room: string | undefined;
  readonly user: string | undefined;
  /** A bundle folder, or (with `archive`) the .tar file. */
  readonly out: string;
  readonly archive: boolean;
  readonly withMedia: boolean;
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
  let media: Media | undefined;
  try {
    const roomserver = new Roomserver({ db, serverName: config.server_name, signingKey, logger });
    // Only with --with-media: the media store (and its encryption key) is opened read-only in effect.
    media = args.withMedia ? await createMedia({ config, db, logger, clock: Date.now }) : undefined;
    const mediaService = media?.service;
    const deps: ExportDeps = {
      db,
      serverName: config.server_name,
      signingKey,
      oldVerifyKeys: config.old_signing_keys,
      stateBefore: (eventId) => roomserver.stateAt(eventId, 'before'),
      ...(mediaService === undefined
        ? {}
        : {
            media: bundleMediaSource({
              delete: async () => false,
              read: (serverName, mediaId) =>
                mediaService.download(serverName, mediaId, { timeoutMs: 0, allowRemote: false, legacy: false }).then(
                  (item) => ({ contentType: item.contentType, open: () => item.open() }),
                  () => undefined,
                ),
            }),
          }),
    };
    const range = {
      ...(args.sinceTs === undefined ? {} : { sinceTs: args.sinceTs }),
      ...(args.untilTs === undefined ? {} : { untilTs: args.untilTs }),
      ...(args.withMedia ? { withMedia: true } : {}),
    };
    const started = performance.now();
    const summaries: ExportSummary[] = args.archive
      ? [{ dir: args.out, manifest: await exportRoomArchive(deps, { roomId: args.room ?? '', archive: args.out, ...range }) }]
      : args.room !== undefined
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
        archive: args.archive,
        with_media: args.withMedia,
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
    await media?.close();
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
        archive: { type: 'string' },
        'with-media': { type: 'boolean' },
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
  if (values.archive !== undefined) {
    if (values.out !== undefined) throw new UsageError('export-room: give --out DIR or --archive FILE.tar, not both');
    if (values.room === undefined) throw new UsageError('export-room: --archive exports one room (--room ROOM_ID)');
    if (values.archive === '') throw new UsageError('export-room: --archive needs a file name');
  } else if (values.out === undefined || values.out === '') throw new UsageError('export-room: --out DIR (or --archive FILE.tar) is required');
  return {
    config: values.config,
    room: values.room,
    user: values.user,
    out: values.archive ?? values.out ?? '',
    archive: values.archive !== undefined,
    withMedia: values['with-media'] === true,
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
