// Media rows (client-server § "Content repository"): local uploads, URIs created for a later
// upload, cached remote media, their thumbnails and the URL-preview cache. The bytes live in
// the media blob store; rows name them by `sha256`, and a blob may be deleted only when no
// row of either table names it any more (`blobReferences`).

import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database, MediaTable, MediaThumbnailsTable } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export interface MediaRecord {
  readonly serverName: string;
  readonly mediaId: string;
  readonly userId: string | undefined;
  readonly contentType: string | undefined;
  readonly filename: string | undefined;
  readonly size: number | undefined;
  /** Undefined while a created URI waits for its upload. */
  readonly sha256: string | undefined;
  readonly createdTs: number;
  readonly storedTs: number | undefined;
  readonly pendingExpiresTs: number | undefined;
  readonly quarantinedTs: number | undefined;
  readonly quarantinedBy: string | undefined;
}

export interface StoredMediaInput {
  readonly serverName: string;
  readonly mediaId: string;
  readonly userId: string | undefined;
  readonly contentType: string;
  readonly filename: string | undefined;
  readonly size: number;
  readonly sha256: string;
  readonly now: number;
}

export type CompleteUploadOutcome = 'stored' | 'not-found' | 'not-owner' | 'already-uploaded' | 'expired';

export interface ThumbnailKey {
  readonly serverName: string;
  readonly mediaId: string;
  readonly width: number;
  readonly height: number;
  readonly method: 'crop' | 'scale';
  readonly animated: boolean;
}

export interface ThumbnailRecord extends ThumbnailKey {
  readonly contentType: string;
  readonly size: number;
  readonly sha256: string;
  readonly createdTs: number;
}

export class MediaRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  async get(serverName: string, mediaId: string): Promise<MediaRecord | undefined> {
    const row = await this.#db
      .selectFrom('media')
      .selectAll()
      .where('server_name', '=', serverName)
      .where('media_id', '=', mediaId)
      .executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  /** A finished local upload. Throws on a duplicate ID (IDs are random; a clash is a bug). */
  async insertUpload(input: StoredMediaInput): Promise<void> {
    await this.#db.insertInto('media').values(storedValues(input)).execute();
  }

  /** Remote media fetched into the cache; a re-fetch replaces the row (the blob may differ). */
  async upsertRemote(input: StoredMediaInput): Promise<void> {
    const values = storedValues(input);
    await this.#db
      .insertInto('media')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['server_name', 'media_id']).doUpdateSet({
          content_type: values.content_type,
          filename: values.filename,
          size: values.size,
          sha256: values.sha256,
          stored_ts: values.stored_ts,
        }),
      )
      .execute();
  }

  /** A URI reserved by POST /media/v1/create, to be filled by its owner before `expiresTs`. */
  async createPending(serverName: string, mediaId: string, userId: string, now: number, expiresTs: number): Promise<void> {
    await this.#db
      .insertInto('media')
      .values({
        server_name: serverName,
        media_id: mediaId,
        user_id: userId,
        content_type: null,
        filename: null,
        size: null,
        sha256: null,
        created_ts: now,
        stored_ts: null,
        pending_expires_ts: expiresTs,
        quarantined_ts: null,
        quarantined_by: null,
      })
      .execute();
  }

  /**
   * Fills a pending URI. Only its creator may, only once, only before it expires; the
   * update is conditional, so two concurrent PUTs cannot both succeed.
   */
  async completePending(input: StoredMediaInput & { readonly userId: string }): Promise<CompleteUploadOutcome> {
    const result = await this.#db
      .updateTable('media')
      .set({
        content_type: input.contentType,
        filename: input.filename ?? null,
        size: input.size,
        sha256: input.sha256,
        stored_ts: input.now,
        pending_expires_ts: null,
      })
      .where('server_name', '=', input.serverName)
      .where('media_id', '=', input.mediaId)
      .where('user_id', '=', input.userId)
      .where('sha256', 'is', null)
      .where('pending_expires_ts', '>', input.now)
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) return 'stored';
    const row = await this.get(input.serverName, input.mediaId);
    return pendingProblem(row, input.userId, input.now);
  }

  /** Why `userId` may not upload to this URI now, or undefined when it may. */
  async checkPending(serverName: string, mediaId: string, userId: string, now: number): Promise<Exclude<CompleteUploadOutcome, 'stored'> | undefined> {
    const row = await this.get(serverName, mediaId);
    if (row !== undefined && row.userId === userId && row.sha256 === undefined && (row.pendingExpiresTs ?? 0) > now) return undefined;
    return pendingProblem(row, userId, now);
  }

  /** Created, not yet uploaded, not yet expired URIs of `userId`. */
  async countPending(userId: string, now: number): Promise<number> {
    const row = await this.#db
      .selectFrom('media')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('user_id', '=', userId)
      .where('sha256', 'is', null)
      .where('pending_expires_ts', '>', now)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Bytes of stored uploads by `userId` (the quota counts what they uploaded, not what is deduplicated). */
  async usedBytes(userId: string): Promise<number> {
    const row = await this.#db
      .selectFrom('media')
      .select(sql<string | number | null>`sum(size)`.as('total'))
      .where('user_id', '=', userId)
      .where('sha256', 'is not', null)
      .executeTakeFirstOrThrow();
    return Number(row.total ?? 0);
  }

  /** Rows (media and thumbnails) that name the blob `sha256`. */
  async blobReferences(sha256: string): Promise<number> {
    const media = await this.#db
      .selectFrom('media')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('sha256', '=', sha256)
      .executeTakeFirstOrThrow();
    const thumbnails = await this.#db
      .selectFrom('media_thumbnails')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('sha256', '=', sha256)
      .executeTakeFirstOrThrow();
    return Number(media.n) + Number(thumbnails.n);
  }

  async thumbnail(key: ThumbnailKey): Promise<ThumbnailRecord | undefined> {
    const row = await this.#db
      .selectFrom('media_thumbnails')
      .selectAll()
      .where('server_name', '=', key.serverName)
      .where('media_id', '=', key.mediaId)
      .where('width', '=', key.width)
      .where('height', '=', key.height)
      .where('method', '=', key.method)
      .where('animated', '=', key.animated)
      .executeTakeFirst();
    return row === undefined ? undefined : toThumbnail(row);
  }

  /** Keeps the first of two concurrent generations of one thumbnail. */
  async insertThumbnail(record: ThumbnailRecord): Promise<void> {
    await this.#db
      .insertInto('media_thumbnails')
      .values({
        server_name: record.serverName,
        media_id: record.mediaId,
        width: record.width,
        height: record.height,
        method: record.method,
        animated: record.animated,
        content_type: record.contentType,
        size: record.size,
        sha256: record.sha256,
        created_ts: record.createdTs,
      })
      .onConflict((oc) => oc.columns(['server_name', 'media_id', 'width', 'height', 'method', 'animated']).doNothing())
      .execute();
  }

  /** Quarantines (or, with `by` undefined, releases) one item. False when there is no such item. */
  async setQuarantined(serverName: string, mediaId: string, by: string | undefined, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('media')
      .set(by === undefined ? { quarantined_ts: null, quarantined_by: null } : { quarantined_ts: now, quarantined_by: by })
      .where('server_name', '=', serverName)
      .where('media_id', '=', mediaId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Deletes an item and its thumbnails; returns the blobs they named (the caller deletes
   * those no other row names), or undefined when there was no such item.
   */
  async delete(serverName: string, mediaId: string): Promise<string[] | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const thumbnails = await trx
        .deleteFrom('media_thumbnails')
        .where('server_name', '=', serverName)
        .where('media_id', '=', mediaId)
        .returning('sha256')
        .execute();
      const media = await trx
        .deleteFrom('media')
        .where('server_name', '=', serverName)
        .where('media_id', '=', mediaId)
        .returning('sha256')
        .executeTakeFirst();
      if (media === undefined) return undefined;
      const blobs = new Set(thumbnails.map((t) => t.sha256));
      if (media.sha256 !== null) blobs.add(media.sha256);
      return [...blobs];
    });
  }

  /** Media IDs uploaded by `userId`, newest first (for the admin API). */
  async listByUser(userId: string, limit: number): Promise<MediaRecord[]> {
    const rows = await this.#db
      .selectFrom('media')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_ts', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  /** Drops created URIs whose upload deadline passed; returns how many. */
  async deleteExpiredPending(now: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('media')
      .where('sha256', 'is', null)
      .where('pending_expires_ts', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async preview(url: string, now: number): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('url_previews')
      .select('response_json')
      .where('url', '=', url)
      .where('expires_ts', '>', now)
      .executeTakeFirst();
    return row?.response_json;
  }

  async savePreview(url: string, responseJson: string, now: number, expiresTs: number): Promise<void> {
    await this.#db
      .insertInto('url_previews')
      .values({ url, response_json: responseJson, fetched_ts: now, expires_ts: expiresTs })
      .onConflict((oc) => oc.column('url').doUpdateSet({ response_json: responseJson, fetched_ts: now, expires_ts: expiresTs }))
      .execute();
  }
}

function pendingProblem(row: MediaRecord | undefined, userId: string, now: number): Exclude<CompleteUploadOutcome, 'stored'> {
  if (row === undefined) return 'not-found';
  if (row.userId !== userId) return 'not-owner';
  if (row.sha256 !== undefined) return 'already-uploaded';
  return (row.pendingExpiresTs ?? 0) <= now ? 'expired' : 'not-found';
}

function storedValues(input: StoredMediaInput): Omit<Selectable<MediaTable>, never> {
  return {
    server_name: input.serverName,
    media_id: input.mediaId,
    user_id: input.userId ?? null,
    content_type: input.contentType,
    filename: input.filename ?? null,
    size: input.size,
    sha256: input.sha256,
    created_ts: input.now,
    stored_ts: input.now,
    pending_expires_ts: null,
    quarantined_ts: null,
    quarantined_by: null,
  };
}

function toRecord(row: Selectable<MediaTable>): MediaRecord {
  return {
    serverName: row.server_name,
    mediaId: row.media_id,
    userId: row.user_id ?? undefined,
    contentType: row.content_type ?? undefined,
    filename: row.filename ?? undefined,
    size: row.size ?? undefined,
    sha256: row.sha256 ?? undefined,
    createdTs: row.created_ts,
    storedTs: row.stored_ts ?? undefined,
    pendingExpiresTs: row.pending_expires_ts ?? undefined,
    quarantinedTs: row.quarantined_ts ?? undefined,
    quarantinedBy: row.quarantined_by ?? undefined,
  };
}

function toThumbnail(row: Selectable<MediaThumbnailsTable>): ThumbnailRecord {
  return {
    serverName: row.server_name,
    mediaId: row.media_id,
    width: row.width,
    height: row.height,
    method: row.method === 'crop' ? 'crop' : 'scale',
    animated: row.animated,
    contentType: row.content_type,
    size: row.size,
    sha256: row.sha256,
    createdTs: row.created_ts,
  };
}
