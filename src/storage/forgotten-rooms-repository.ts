// Rooms users have forgotten (client-server § "Leaving rooms"). A row holds the membership
// event that was current when the user forgot the room; the room stays forgotten while that
// event is still the user's membership, so a later join, invite or knock ends it without
// anyone having to delete the row (see schema/migrations/0006_rooms.ts).

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export class ForgottenRoomsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Records that `userId` forgot `roomId` while `membershipEventId` was their membership. */
  async forget(userId: string, roomId: string, membershipEventId: string, now: number): Promise<void> {
    await this.#db
      .insertInto('forgotten_rooms')
      .values({ user_id: userId, room_id: roomId, membership_event_id: membershipEventId, forgotten_ts: now })
      .onConflict((oc) =>
        oc.columns(['user_id', 'room_id']).doUpdateSet({ membership_event_id: membershipEventId, forgotten_ts: now }),
      )
      .execute();
  }

  /**
   * The rooms `userId` has forgotten and still is forgetting: those whose recorded
   * membership event is still the user's current `m.room.member` state.
   */
  async forgottenRooms(userId: string): Promise<Set<string>> {
    const rows = await this.#db
      .selectFrom('forgotten_rooms as f')
      .innerJoin('current_state as s', (join) =>
        join
          .onRef('s.room_id', '=', 'f.room_id')
          .on('s.type', '=', 'm.room.member')
          .onRef('s.state_key', '=', 'f.user_id')
          .onRef('s.event_id', '=', 'f.membership_event_id'),
      )
      .select('f.room_id')
      .where('f.user_id', '=', userId)
      .execute();
    return new Set(rows.map((r) => r.room_id));
  }

  async isForgotten(userId: string, roomId: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('forgotten_rooms as f')
      .innerJoin('current_state as s', (join) =>
        join
          .onRef('s.room_id', '=', 'f.room_id')
          .on('s.type', '=', 'm.room.member')
          .onRef('s.state_key', '=', 'f.user_id')
          .onRef('s.event_id', '=', 'f.membership_event_id'),
      )
      .select('f.room_id')
      .where('f.user_id', '=', userId)
      .where('f.room_id', '=', roomId)
      .executeTakeFirst();
    return row !== undefined;
  }
}
