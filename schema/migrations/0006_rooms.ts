// Rooms a user has forgotten (client-server § "Leaving rooms", POST /rooms/{roomId}/forget).
//
// A room stays forgotten "until the user re-joins, is re-invited, or knocks": any later
// membership event of the user ends it. Rather than a hook that clears rows on every
// membership change (which would have to run in every process that writes events), a row
// records the membership event current when the user forgot the room; the room is forgotten
// while that event is still the user's current membership.

import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('forgotten_rooms')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text', (c) => c.notNull())
    .addColumn('membership_event_id', 'text', (c) => c.notNull())
    .addColumn('forgotten_ts', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('forgotten_rooms_pkey', ['user_id', 'room_id'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('forgotten_rooms').execute();
}

export const migration0006Rooms: Migration = { up, down };
