// Accounts and sessions (client-server API § "Client Authentication", § "Account registration
// and management"), on top of 0001's users, devices and access_tokens.
//
// - `refresh_tokens` (§ "Refreshing access tokens"): stored hashed like access tokens. Using
//   refresh token R1 issues R2 and records `R1.next_token_id = R2`; R1 stays valid until R2
//   or the access token issued with it is first used, so a client that lost the response can
//   repeat the refresh. The access tokens a refresh token issued point at it and go with it.
// - `access_tokens.refresh_token_id` / `used`: the link above, and whether the token has been
//   used yet (the first use revokes the previous refresh token; later uses write nothing).
// - `login_tokens` (§ "Login", m.login.token): short-lived, single use, hashed.
// - `registration_tokens` (§ "Token-authenticated registration"): kept in clear, because the
//   administrator hands them out and lists them; they grant registration, not a session.
// - `uia_sessions` (§ "User-Interactive Authentication API"): in the database so that a
//   client's next attempt may reach another Stoa process behind the load balancer.
// - `registration_nonces`: one-use nonces of the shared-secret registration admin API.

import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('refresh_tokens')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    // The refresh token that replaced this one; set null when that one is revoked.
    .addColumn('next_token_id', 'bigint', (c) => c.references('refresh_tokens.id').onDelete('set null'))
    .addForeignKeyConstraint('refresh_tokens_device_fkey', ['user_id', 'device_id'], 'devices', ['user_id', 'device_id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();
  // "Revoke the token that `next_token_id` replaced" looks tokens up by their successor.
  await db.schema
    .createIndex('refresh_tokens_next_token_id')
    .on('refresh_tokens')
    .column('next_token_id')
    .where(sql.ref('next_token_id'), 'is not', null)
    .execute();
  await db.schema.createIndex('refresh_tokens_user_device').on('refresh_tokens').columns(['user_id', 'device_id']).execute();

  await db.schema
    .alterTable('access_tokens')
    .addColumn('refresh_token_id', 'bigint', (c) => c.references('refresh_tokens.id').onDelete('cascade'))
    .execute();
  await db.schema.alterTable('access_tokens').addColumn('used', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await db.schema
    .createIndex('access_tokens_refresh_token_id')
    .on('access_tokens')
    .column('refresh_token_id')
    .where(sql.ref('refresh_token_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('login_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addColumn('expires_ts', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('registration_tokens')
    .addColumn('token', 'text', (c) => c.primaryKey())
    // null: unlimited.
    .addColumn('uses_allowed', 'integer', (c) => c.check(sql`uses_allowed >= 0`))
    .addColumn('completed', 'integer', (c) => c.notNull().defaultTo(0).check(sql`completed >= 0`))
    // null: never expires.
    .addColumn('expiry_ts', 'bigint')
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('uia_sessions')
    .addColumn('session_id', 'text', (c) => c.primaryKey())
    // What the session authorises (method and endpoint); a session cannot switch operations.
    .addColumn('operation', 'text', (c) => c.notNull())
    // The user the session is for: the requester, or the user a password stage proved.
    .addColumn('user_id', 'text')
    // JSON array of completed stage types.
    .addColumn('completed', 'text', (c) => c.notNull())
    // JSON object of what stages and the endpoint recorded (registration token, registered user).
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addColumn('expires_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('uia_sessions_expires_ts').on('uia_sessions').column('expires_ts').execute();

  await db.schema
    .createTable('registration_nonces')
    .addColumn('nonce', 'text', (c) => c.primaryKey())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('registration_nonces').execute();
  await db.schema.dropTable('uia_sessions').execute();
  await db.schema.dropTable('registration_tokens').execute();
  await db.schema.dropTable('login_tokens').execute();
  await db.schema.dropIndex('access_tokens_refresh_token_id').execute();
  await db.schema.alterTable('access_tokens').dropColumn('used').execute();
  await db.schema.alterTable('access_tokens').dropColumn('refresh_token_id').execute();
  await db.schema.dropTable('refresh_tokens').execute();
}

export const migration0003Accounts: Migration = { up, down };
