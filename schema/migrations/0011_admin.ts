// The tamper-evident admin audit log (issue 8 item 6): every admin and compliance action —
// who, what, target, when, from where — as one row of a hash chain. `seq` is gapless (the
// writer takes the next number under a lock), and `hash` = sha256(prev_hash ‖ sha256(entry)),
// so an altered or removed row breaks the chain from that row on (src/admin/audit-log).

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('admin_audit_log')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('origin', 'text', (c) => c.notNull())
    // Canonical JSON of the action's parameters.
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('admin_audit_log').execute();
}

export const migration0011Admin: Migration = { up, down };
