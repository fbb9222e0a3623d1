// The compliance export of a room from the database (bundle format: ./bundle-format.ts;
// writing: ./bundle-writer.ts). Events are read in keyset-paginated pages over
// (room_id, stream_ordering) — then outliers over (received_ts, event_id) — and written as
// they are read, so memory stays flat for rooms of millions of events. The export reads up
// to the stream position the room had when it began: later events are not part of it.

import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { SigningKey } from '../../crypto/signing-key.ts';
import type { StateMap } from '../../rooms/event-view.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import { ExportQueries, type ExportEventFilter, type ExportEventRow, type OutlierCursor } from '../../storage/export-queries.ts';
import { RetentionRepository } from '../../storage/retention-repository.ts';
import { ServerKeysRepository } from '../../storage/server-keys-repository.ts';
import type { BundledKey, ExportScope, KeysFile, Manifest } from './bundle-format.ts';
import { writeBundle, type BundleEventRow, type BundleMediaSource } from './bundle-writer.ts';

export class ExportError extends Error {
  override readonly name = 'ExportError';
}

export interface ExportDeps {
  readonly db: StoaDatabase;
  readonly serverName: string;
  readonly signingKey: SigningKey;
  /** Keys this server signed with before (config `old_signing_keys`), so its old events verify. */
  readonly oldVerifyKeys?: ReadonlyArray<{ readonly key_id: string; readonly public_key: string; readonly expired_ts: number }>;
  /** The room state before an event (the roomserver's `stateAt(id, 'before')`). */
  readonly stateBefore: (eventId: string) => Promise<StateMap | undefined>;
  readonly clock?: () => number;
  /** The media store, for exports with `withMedia`. */
  readonly media?: BundleMediaSource;
}

export interface ExportRoomOptions {
  readonly roomId: string;
  /** A new or empty directory. */
  readonly outDir: string;
  readonly sinceTs?: number;
  readonly untilTs?: number;
  /** Recorded in the scope when the room is exported as one of a custodian's rooms. */
  readonly custodian?: string;
  /** Rows per database page (default 2,000). */
  readonly pageSize?: number;
  /** Bundle the media the events name (needs `deps.media`). */
  readonly withMedia?: boolean;
}

export interface ExportSummary {
  readonly dir: string;
  readonly manifest: Manifest;
}

const DEFAULT_PAGE_SIZE = 2000;
const STATE_BATCH = 500;

export async function exportRoom(deps: ExportDeps, options: ExportRoomOptions): Promise<ExportSummary> {
  const queries = new ExportQueries(deps.db);
  const purgeRecord = new RetentionRepository(deps.db);
  // Most rooms have no purged events: then no page needs the extra lookup.
  const purges = (await purgeRecord.roomHasPurges(options.roomId)) ? purgeRecord : undefined;
  const roomVersion = await queries.roomVersion(options.roomId);
  if (roomVersion === undefined) throw new ExportError(`unknown room ${options.roomId}`);
  if (options.sinceTs !== undefined && options.untilTs !== undefined && options.untilTs <= options.sinceTs) {
    throw new ExportError('the end of the time range must be after its start');
  }
  await prepareEmptyDirectory(options.outDir);

  const exportedAt = (deps.clock ?? Date.now)();
  const upTo = await queries.maxStreamOrdering(options.roomId);
  const scope: ExportScope = {
    room_id: options.roomId,
    since_ts: options.sinceTs ?? null,
    until_ts: options.untilTs ?? null,
    custodian: options.custodian ?? null,
    up_to_stream_ordering: upTo,
  };
  const filter: ExportEventFilter = {
    roomId: options.roomId,
    ...(options.sinceTs === undefined ? {} : { sinceTs: options.sinceTs }),
    ...(options.untilTs === undefined ? {} : { untilTs: options.untilTs }),
  };
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const manifest = await writeBundle({
    outDir: options.outDir,
    serverName: deps.serverName,
    signingKey: deps.signingKey,
    roomVersion,
    scope,
    exportedAt,
    stateEvents: stateRows(queries, purges, await stateAtStart(deps, queries, filter, upTo)),
    events: eventRows(queries, purges, filter, upTo, pageSize),
    keysFor: (servers) => bundledKeys(deps, servers),
    ...(options.withMedia === true ? { media: mediaSource(deps) } : {}),
  });
  return { dir: options.outDir, manifest };
}

function mediaSource(deps: ExportDeps): BundleMediaSource {
  if (deps.media === undefined) throw new ExportError('media cannot be bundled: no media store is available');
  return deps.media;
}

async function* stateRows(queries: ExportQueries, purges: RetentionRepository | undefined, stateIds: readonly string[]): AsyncGenerator<BundleEventRow> {
  for (let i = 0; i < stateIds.length; i += STATE_BATCH) {
    const rows = await queries.byIds(stateIds.slice(i, i + STATE_BATCH));
    rows.sort((a, b) => (a.streamOrdering ?? -1) - (b.streamOrdering ?? -1) || (a.eventId < b.eventId ? -1 : 1));
    yield* await withPurgeFlags(purges, rows);
  }
}

/** Marks the rows whose content was purged (one query per page; none purged: no extra work). */
async function withPurgeFlags(purges: RetentionRepository | undefined, rows: readonly ExportEventRow[]): Promise<readonly BundleEventRow[]> {
  if (purges === undefined) return rows;
  const purged = await purges.purgedAmong(rows.map((row) => row.eventId));
  return purged.size === 0 ? rows : rows.map((row) => (purged.has(row.eventId) ? { ...row, purged: true } : row));
}

async function* eventRows(
  queries: ExportQueries,
  purges: RetentionRepository | undefined,
  filter: ExportEventFilter,
  upTo: number,
  pageSize: number,
): AsyncGenerator<BundleEventRow> {
  // The next page is read while this one is written: the database and the writer overlap.
  let next: Promise<ExportEventRow[]> | undefined = queries.timelinePage(filter, 0, upTo, pageSize);
  while (next !== undefined) {
    const rows: ExportEventRow[] = await next;
    const last: ExportEventRow | undefined = rows.at(-1);
    next =
      last === undefined || rows.length < pageSize || last.streamOrdering === null
        ? undefined
        : queries.timelinePage(filter, last.streamOrdering, upTo, pageSize);
    // A read that fails while this page is written is reported when awaited, not unhandled.
    next?.catch(() => undefined);
    yield* await withPurgeFlags(purges, rows);
  }
  for (let cursor: OutlierCursor | undefined; ; ) {
    const rows = await queries.outlierPage(filter, cursor, pageSize);
    yield* await withPurgeFlags(purges, rows);
    const last = rows.at(-1);
    if (last === undefined || rows.length < pageSize) break;
    cursor = { receivedTs: last.receivedTs, eventId: last.eventId };
  }
}

export interface ExportCustodianOptions {
  readonly withMedia?: boolean;
  readonly userId: string;
  readonly outDir: string;
  readonly sinceTs?: number;
  readonly untilTs?: number;
  readonly pageSize?: number;
}

/** Every room the user has a membership in, one bundle each in a subdirectory of `outDir`. */
export async function exportCustodian(deps: ExportDeps, options: ExportCustodianOptions): Promise<ExportSummary[]> {
  const rooms = await new ExportQueries(deps.db).roomsWithMember(options.userId);
  if (rooms.length === 0) throw new ExportError(`${options.userId} has no rooms on this server`);
  await prepareEmptyDirectory(options.outDir);
  const summaries: ExportSummary[] = [];
  for (const roomId of rooms) {
    summaries.push(
      await exportRoom(deps, {
        roomId,
        outDir: path.join(options.outDir, bundleDirectoryName(roomId)),
        custodian: options.userId,
        ...(options.sinceTs === undefined ? {} : { sinceTs: options.sinceTs }),
        ...(options.untilTs === undefined ? {} : { untilTs: options.untilTs }),
        ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
        ...(options.withMedia === undefined ? {} : { withMedia: options.withMedia }),
      }),
    );
  }
  return summaries;
}

/** A file-system-safe, collision-free directory name for a room ID. */
export function bundleDirectoryName(roomId: string): string {
  const safe = roomId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  return `${safe}-${Buffer.from(roomId).toString('base64url').slice(-8)}`;
}

async function stateAtStart(
  deps: ExportDeps,
  queries: ExportQueries,
  filter: ExportEventFilter,
  upTo: number,
): Promise<string[]> {
  // The first events of the range; a rejected one may have no state, so try a few.
  for (const row of await queries.timelinePage(filter, 0, upTo, 50)) {
    const state = await deps.stateBefore(row.eventId);
    if (state !== undefined) return [...state.values()];
  }
  return [];
}

async function bundledKeys(deps: ExportDeps, servers: ReadonlySet<string>): Promise<KeysFile> {
  const repository = new ServerKeysRepository(deps.db.kysely);
  const result: Record<string, Record<string, BundledKey>> = {};
  for (const server of [...servers].sort()) {
    const keys: Record<string, BundledKey> = {};
    if (server === deps.serverName) {
      keys[deps.signingKey.keyId] = { key: deps.signingKey.publicKeyBase64, valid_until_ts: null, expired_ts: null, source: 'own' };
      for (const old of deps.oldVerifyKeys ?? []) {
        keys[old.key_id] = { key: old.public_key, valid_until_ts: null, expired_ts: old.expired_ts, source: 'own' };
      }
    } else {
      for (const cached of await repository.findAllForServer(server)) {
        keys[cached.keyId] = { key: cached.publicKey, valid_until_ts: cached.validUntilTs, expired_ts: cached.expiredTs, source: 'cache' };
      }
    }
    result[server] = keys;
  }
  return { servers: result };
}

async function prepareEmptyDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  if (entries.length > 0) throw new ExportError(`the output directory ${dir} is not empty`);
}

