// The media repository (client-server § "Content repository"). `media` has one row per
// mxc:// URI, local uploads and cached remote files alike; the bytes live in the blob store,
// addressed by the SHA-256 of their plaintext, so `sha256` is shared by every row holding
// the same file. A row created by POST /media/v1/create has no bytes yet (`sha256` null)
// until its PUT arrives or `pending_expires_ts` passes. Thumbnails are blobs too, one row per
// generated size. URL previews are cached as the JSON sent to the client.

import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('media')
    .addColumn('server_name', 'text', (c) => c.notNull())
    .addColumn('media_id', 'text', (c) => c.notNull())
    // The local uploader; null for remote media.
    .addColumn('user_id', 'text')
    .addColumn('content_type', 'text')
    .addColumn('filename', 'text')
    .addColumn('size', 'bigint')
    .addColumn('sha256', 'text')
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    // When the bytes arrived (uploaded, or fetched into the cache for remote media): the
    // legacy-route freeze compares against it.
    .addColumn('stored_ts', 'bigint')
    .addColumn('pending_expires_ts', 'bigint')
    .addColumn('quarantined_ts', 'bigint')
    .addColumn('quarantined_by', 'text')
    .addPrimaryKeyConstraint('media_pkey', ['server_name', 'media_id'])
    .execute();
  await db.schema.createIndex('media_user_id').on('media').column('user_id').where(sql.ref('user_id'), 'is not', null).execute();
  await db.schema.createIndex('media_sha256').on('media').column('sha256').where(sql.ref('sha256'), 'is not', null).execute();

  await db.schema
    .createTable('media_thumbnails')
    .addColumn('server_name', 'text', (c) => c.notNull())
    .addColumn('media_id', 'text', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('animated', 'boolean', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('media_thumbnails_pkey', ['server_name', 'media_id', 'width', 'height', 'method', 'animated'])
    .addForeignKeyConstraint('media_thumbnails_media_fkey', ['server_name', 'media_id'], 'media', ['server_name', 'media_id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();
  await db.schema.createIndex('media_thumbnails_sha256').on('media_thumbnails').column('sha256').execute();

  await db.schema
    .createTable('url_previews')
    .addColumn('url', 'text', (c) => c.notNull().primaryKey())
    .addColumn('response_json', 'text', (c) => c.notNull())
    .addColumn('fetched_ts', 'bigint', (c) => c.notNull())
    .addColumn('expires_ts', 'bigint', (c) => c.notNull())
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('url_previews').execute();
  await db.schema.dropTable('media_thumbnails').execute();
  await db.schema.dropTable('media').execute();
}

export const migration0009Media: Migration = { up, down };
