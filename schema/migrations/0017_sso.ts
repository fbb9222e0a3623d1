// Single sign-on with OpenID Connect (issue 10 item 2, client-server API § "Client login via
// SSO"):
// - `sso_pending_logins`: one row per redirect to a provider, keyed by the OAuth `state`,
//   holding what the callback needs (PKCE verifier, nonce, the client's redirectUrl). In the
//   database so that the callback may reach another Stoa process; spent on first use.
// - `sso_user_links`: which local user a provider's subject is, decided on first login.

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sso_pending_logins')
    .addColumn('state', 'text', (c) => c.primaryKey())
    .addColumn('idp_id', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    // Login: the client's redirectUrl. User-interactive auth: the UIA session instead.
    .addColumn('redirect_url', 'text')
    .addColumn('uia_session_id', 'text')
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addColumn('expires_ts', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sso_pending_logins_expires_ts').on('sso_pending_logins').column('expires_ts').execute();

  await db.schema
    .createTable('sso_user_links')
    .addColumn('idp_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.user_id').onDelete('cascade'))
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sso_user_links_pkey', ['idp_id', 'subject'])
    .execute();
  await db.schema.createIndex('sso_user_links_user_id').on('sso_user_links').column('user_id').execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sso_user_links').execute();
  await db.schema.dropTable('sso_pending_logins').execute();
}

export const migration0017Sso: Migration = { up, down };
