// Content reports (client-server § "Reporting Content": events, rooms and users, kept for the
// admin API to list) and OpenID tokens (client-server § "OpenID": short-lived tokens a third
// party exchanges at the federation `/openid/userinfo` endpoint). Also an index for
// `/timestamp_to_event`, which looks a room's events up by `origin_server_ts`.

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('content_reports')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('reporter', 'text', (c) => c.notNull())
    // 'event' | 'room' | 'user'
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text')
    .addColumn('event_id', 'text')
    .addColumn('target_user_id', 'text')
    .addColumn('reason', 'text')
    // The deprecated `score` of event reports (removed from the spec in v1.18; older clients send it).
    .addColumn('score', 'integer')
    .execute();
  await db.schema.createIndex('content_reports_ts').on('content_reports').column('ts').execute();

  await db.schema
    .createTable('openid_tokens')
    .addColumn('token', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('expires_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('openid_tokens_expires_ts').on('openid_tokens').column('expires_ts').execute();

  await db.schema.createIndex('events_room_origin_server_ts').on('events').columns(['room_id', 'origin_server_ts']).execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('events_room_origin_server_ts').execute();
  await db.schema.dropTable('openid_tokens').execute();
  await db.schema.dropTable('content_reports').execute();
}

export const migration0014ReportsOpenid: Migration = { up, down };
