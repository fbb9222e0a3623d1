// Server-side key backup (client-server § "Server-side key backups"): versions per user
// (never reused: a deleted version keeps its row, marked deleted) and the backed-up session
// keys of each version. `etag` moves on every change to a version's keys.

import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface StoredBackupVersion {
  readonly version: number;
  readonly algorithm: string;
  readonly authData: string;
  readonly etag: number;
  readonly count: number;
}

export interface BackupKeyMetadata {
  readonly firstMessageIndex: number;
  readonly forwardedCount: number;
  readonly isVerified: boolean;
}

export interface BackupKey extends BackupKeyMetadata {
  readonly roomId: string;
  readonly sessionId: string;
  /** The `session_data` object as JSON text. */
  readonly sessionData: string;
}

export interface BackupCounts {
  readonly etag: number;
  readonly count: number;
}

/** Whether an uploaded key replaces the stored one (the spec's rule, supplied by the caller). */
export type ReplaceRule = (stored: BackupKeyMetadata, uploaded: BackupKeyMetadata) => boolean;

export interface BackupKeyScope {
  readonly roomId?: string;
  readonly sessionId?: string;
}

export class E2eeBackupRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Creates the user's next version; returns its number. */
  async createVersion(userId: string, algorithm: string, authData: string): Promise<number> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('e2e_backup_versions')
        .select((eb) => eb.fn.max('version').as('max'))
        .where('user_id', '=', userId)
        .executeTakeFirst();
      const version = (row?.max === null || row?.max === undefined ? 0 : Number(row.max)) + 1;
      await trx
        .insertInto('e2e_backup_versions')
        .values({ user_id: userId, version, algorithm, auth_data: authData, etag: 0, deleted: false })
        .execute();
      return version;
    });
  }

  /** A version that is not deleted, or the latest one when `version` is undefined. */
  async findVersion(userId: string, version?: number): Promise<StoredBackupVersion | undefined> {
    let query = this.#db
      .selectFrom('e2e_backup_versions')
      .select(['version', 'algorithm', 'auth_data', 'etag'])
      .where('user_id', '=', userId)
      .where('deleted', '=', false);
    query = version === undefined ? query.orderBy('version', 'desc').limit(1) : query.where('version', '=', version);
    const row = await query.executeTakeFirst();
    if (row === undefined) return undefined;
    const count = await countKeys(this.#db, userId, row.version);
    return { version: row.version, algorithm: row.algorithm, authData: row.auth_data, etag: row.etag, count };
  }

  /** Replaces `auth_data`; false when the version does not exist (or is deleted). */
  async updateVersion(userId: string, version: number, authData: string): Promise<boolean> {
    const row = await this.#db
      .updateTable('e2e_backup_versions')
      .set({ auth_data: authData })
      .where('user_id', '=', userId)
      .where('version', '=', version)
      .where('deleted', '=', false)
      .returning('version')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Deletes a version and its keys; false when it does not exist (or is deleted already). */
  async deleteVersion(userId: string, version: number): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('e2e_backup_versions')
        .set({ deleted: true })
        .where('user_id', '=', userId)
        .where('version', '=', version)
        .where('deleted', '=', false)
        .returning('version')
        .executeTakeFirst();
      if (row === undefined) return false;
      await trx.deleteFrom('e2e_backup_keys').where('user_id', '=', userId).where('version', '=', version).execute();
      return true;
    });
  }

  /**
   * Stores keys in `version` (which the caller checked is the current one), keeping a stored
   * key wherever `replace` says the upload is not better. Returns the new etag and count.
   */
  async putKeys(userId: string, version: number, keys: readonly BackupKey[], replace: ReplaceRule): Promise<BackupCounts> {
    return this.#db.transaction().execute(async (trx) => {
      let changed = false;
      for (const key of keys) {
        const stored = await trx
          .selectFrom('e2e_backup_keys')
          .select(['first_message_index', 'forwarded_count', 'is_verified'])
          .where('user_id', '=', userId)
          .where('version', '=', version)
          .where('room_id', '=', key.roomId)
          .where('session_id', '=', key.sessionId)
          .forUpdate()
          .executeTakeFirst();
        if (
          stored !== undefined &&
          !replace({ firstMessageIndex: stored.first_message_index, forwardedCount: stored.forwarded_count, isVerified: stored.is_verified }, key)
        ) {
          continue;
        }
        const values = {
          first_message_index: key.firstMessageIndex,
          forwarded_count: key.forwardedCount,
          is_verified: key.isVerified,
          session_data: key.sessionData,
        };
        await trx
          .insertInto('e2e_backup_keys')
          .values({ user_id: userId, version, room_id: key.roomId, session_id: key.sessionId, ...values })
          .onConflict((oc) => oc.columns(['user_id', 'version', 'room_id', 'session_id']).doUpdateSet(values))
          .execute();
        changed = true;
      }
      return { etag: changed ? await bumpEtag(trx, userId, version) : await currentEtag(trx, userId, version), count: await countKeys(trx, userId, version) };
    });
  }

  /** The version's keys, all or of one room or one session. */
  async keys(userId: string, version: number, scope: BackupKeyScope = {}): Promise<BackupKey[]> {
    let query = this.#db
      .selectFrom('e2e_backup_keys')
      .select(['room_id', 'session_id', 'first_message_index', 'forwarded_count', 'is_verified', 'session_data'])
      .where('user_id', '=', userId)
      .where('version', '=', version);
    if (scope.roomId !== undefined) query = query.where('room_id', '=', scope.roomId);
    if (scope.sessionId !== undefined) query = query.where('session_id', '=', scope.sessionId);
    const rows = await query.orderBy('room_id').orderBy('session_id').execute();
    return rows.map((r) => ({
      roomId: r.room_id,
      sessionId: r.session_id,
      firstMessageIndex: r.first_message_index,
      forwardedCount: r.forwarded_count,
      isVerified: r.is_verified,
      sessionData: r.session_data,
    }));
  }

  /** Deletes the version's keys, all or of one room or one session; returns the new etag and count. */
  async deleteKeys(userId: string, version: number, scope: BackupKeyScope = {}): Promise<BackupCounts> {
    return this.#db.transaction().execute(async (trx) => {
      let query = trx.deleteFrom('e2e_backup_keys').where('user_id', '=', userId).where('version', '=', version);
      if (scope.roomId !== undefined) query = query.where('room_id', '=', scope.roomId);
      if (scope.sessionId !== undefined) query = query.where('session_id', '=', scope.sessionId);
      const result = await query.executeTakeFirst();
      const etag = Number(result.numDeletedRows) > 0 ? await bumpEtag(trx, userId, version) : await currentEtag(trx, userId, version);
      return { etag, count: await countKeys(trx, userId, version) };
    });
  }
}

async function countKeys(db: Kysely<Database>, userId: string, version: number): Promise<number> {
  const row = await db
    .selectFrom('e2e_backup_keys')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('user_id', '=', userId)
    .where('version', '=', version)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

async function bumpEtag(trx: Transaction<Database>, userId: string, version: number): Promise<number> {
  const row = await trx
    .updateTable('e2e_backup_versions')
    .set((eb) => ({ etag: eb('etag', '+', 1) }))
    .where('user_id', '=', userId)
    .where('version', '=', version)
    .returning('etag')
    .executeTakeFirst();
  return row?.etag ?? 0;
}

async function currentEtag(trx: Transaction<Database>, userId: string, version: number): Promise<number> {
  const row = await trx
    .selectFrom('e2e_backup_versions')
    .select('etag')
    .where('user_id', '=', userId)
    .where('version', '=', version)
    .executeTakeFirst();
  return row?.etag ?? 0;
}
