// Compliance (issue 8 items 3 and 4): legal holds and the record of what retention purged.
//
// - `legal_holds`: a hold on a room or on a user's events. While it is not released, nothing
//   in its scope is purged (retention, redaction pruning). Released holds stay as a record.
// - `purged_events`: every event whose content was purged, when and why (`retention`: its
//   lifetime ran out; `redaction`: a redacted event's original content was pruned). The
//   event row itself stays, holding the redacted form, so the room's DAG stays valid; the
//   SHA-256 of the JSON that was removed is kept to show what was there without keeping it.

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('legal_holds')
    .addColumn('hold_id', 'text', (c) => c.primaryKey())
    // `room` or `user`.
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_ts', 'bigint', (c) => c.notNull())
    .addColumn('released_by', 'text')
    .addColumn('released_ts', 'bigint')
    .execute();
  await db.schema.createIndex('legal_holds_target').on('legal_holds').columns(['scope', 'target']).execute();

  await db.schema
    .createTable('purged_events')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull())
    // `retention` or `redaction`.
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('purged_ts', 'bigint', (c) => c.notNull())
    .addColumn('original_sha256', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('purged_events_room').on('purged_events').columns(['room_id', 'purged_ts']).execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('purged_events').execute();
  await db.schema.dropTable('legal_holds').execute();
}

export const migration0020Compliance: Migration = { up, down };
