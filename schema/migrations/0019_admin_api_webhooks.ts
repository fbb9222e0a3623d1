// The admin API (issue 8 item 5) and incoming webhooks (issue 10 item 3).
//
// - `admin_roles`: roles beside `users.is_admin`. `compliance` may call the admin API's read
//   and export endpoints and nothing else; admins grant and revoke it (audit-logged).
// - `erased_users`: deactivated with `erase` (GDPR erasure): their profile was wiped and
//   the admin API reports them as `erased`.
// - `blocked_rooms`: rooms an admin blocked (Synapse's "block room"): local users may not
//   join them.
// - `room_deletions`: each admin room deletion and its outcome, for the delete-status API.
// - `shadow_banned_users`: users whose messages, state changes, invites and typing are
//   silently dropped while they are told all went well (Synapse's shadow-ban).
// - `ratelimit_overrides`: per-user message rate limits set by admins (Synapse's
//   override_ratelimit); 0 messages per second means not limited.
// - `server_notice_rooms`: the room the server-notices user talks to each user in.
// - `webhooks`: incoming webhooks, each bound to a room and a local sender. The secret is
//   kept only as its SHA-256: a leaked table does not let anyone post.

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('admin_roles')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('granted_by', 'text', (c) => c.notNull())
    .addColumn('granted_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('admin_roles_pkey', ['user_id', 'role'])
    .execute();

  await db.schema
    .createTable('erased_users')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('erased_ts', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('blocked_rooms')
    .addColumn('room_id', 'text', (c) => c.primaryKey())
    .addColumn('blocked_by', 'text', (c) => c.notNull())
    .addColumn('blocked_ts', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('room_deletions')
    .addColumn('delete_id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull())
    // `active`, `complete` or `failed`, as Synapse's delete-status API names them.
    .addColumn('status', 'text', (c) => c.notNull())
    // JSON: the `shutdown_room` object of the status response.
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('room_deletions_room_id').on('room_deletions').column('room_id').execute();

  await db.schema
    .createTable('shadow_banned_users')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.user_id').onDelete('cascade'))
    .addColumn('banned_by', 'text', (c) => c.notNull())
    .addColumn('banned_ts', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('ratelimit_overrides')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.user_id').onDelete('cascade'))
    .addColumn('messages_per_second', 'integer', (c) => c.notNull())
    .addColumn('burst_count', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('server_notice_rooms')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('webhook_id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('sender', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // Lowercase hex SHA-256 of the secret.
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    // null while the webhook is usable.
    .addColumn('revoked_ts', 'bigint')
    .addColumn('last_used_ts', 'bigint')
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhooks').execute();
  await db.schema.dropTable('server_notice_rooms').execute();
  await db.schema.dropTable('ratelimit_overrides').execute();
  await db.schema.dropTable('shadow_banned_users').execute();
  await db.schema.dropTable('room_deletions').execute();
  await db.schema.dropTable('blocked_rooms').execute();
  await db.schema.dropTable('erased_users').execute();
  await db.schema.dropTable('admin_roles').execute();
}

export const migration0019AdminApiWebhooks: Migration = { up, down };
