// Pushers (client-server § "Push Notifications" › "Client behaviour", POST /pushers/set) and
// the outbox of notifications waiting for their push gateway to accept them.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface StoredPusher {
  readonly userId: string;
  readonly appId: string;
  readonly pushkey: string;
  readonly kind: string;
  readonly appDisplayName: string;
  readonly deviceDisplayName: string;
  readonly profileTag: string | null;
  readonly lang: string;
  /** JSON object text, `url` included. */
  readonly data: string;
  readonly pushkeyTs: number;
}

export interface OutboxEntry {
  readonly id: number;
  readonly userId: string;
  readonly appId: string;
  readonly pushkey: string;
  readonly roomId: string;
  readonly eventId: string;
  /** JSON object text. */
  readonly tweaks: string;
  readonly attempts: number;
  readonly nextAttemptTs: number;
  readonly createdTs: number;
}

export type NewOutboxEntry = Omit<OutboxEntry, 'id' | 'attempts'>;

export class PushersRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async forUser(userId: string): Promise<StoredPusher[]> {
    const rows = await this.#db.selectFrom('pushers').selectAll().where('user_id', '=', userId).orderBy('app_id').orderBy('pushkey').execute();
    return rows.map(fromRow);
  }

  async forUsers(userIds: readonly string[]): Promise<StoredPusher[]> {
    if (userIds.length === 0) return [];
    const rows = await this.#db.selectFrom('pushers').selectAll().where('user_id', 'in', [...userIds]).execute();
    return rows.map(fromRow);
  }

  async find(userId: string, appId: string, pushkey: string): Promise<StoredPusher | undefined> {
    const row = await this.#db
      .selectFrom('pushers')
      .selectAll()
      .where('user_id', '=', userId)
      .where('app_id', '=', appId)
      .where('pushkey', '=', pushkey)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  /**
   * Creates or replaces the pusher; unless `append`, other users' pushers with the same
   * app ID and pushkey are removed (pushers.yaml `append`).
   */
  async upsert(pusher: StoredPusher, append: boolean): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      if (!append) {
        await trx
          .deleteFrom('pushers')
          .where('app_id', '=', pusher.appId)
          .where('pushkey', '=', pusher.pushkey)
          .where('user_id', '!=', pusher.userId)
          .execute();
      }
      const values = {
        user_id: pusher.userId,
        app_id: pusher.appId,
        pushkey: pusher.pushkey,
        kind: pusher.kind,
        app_display_name: pusher.appDisplayName,
        device_display_name: pusher.deviceDisplayName,
        profile_tag: pusher.profileTag,
        lang: pusher.lang,
        data: pusher.data,
        pushkey_ts: pusher.pushkeyTs,
      };
      await trx
        .insertInto('pushers')
        .values(values)
        .onConflict((oc) => oc.columns(['user_id', 'app_id', 'pushkey']).doUpdateSet(values))
        .execute();
    });
  }

  /** Removes a pusher and whatever it still had to deliver; false when there was none. */
  async delete(userId: string, appId: string, pushkey: string): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('push_outbox').where('user_id', '=', userId).where('app_id', '=', appId).where('pushkey', '=', pushkey).execute();
      const result = await trx
        .deleteFrom('pushers')
        .where('user_id', '=', userId)
        .where('app_id', '=', appId)
        .where('pushkey', '=', pushkey)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  // --- outbox -------------------------------------------------------------------------------

  async enqueue(entries: readonly NewOutboxEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.#db
      .insertInto('push_outbox')
      .values(
        entries.map((e) => ({
          user_id: e.userId,
          app_id: e.appId,
          pushkey: e.pushkey,
          room_id: e.roomId,
          event_id: e.eventId,
          tweaks: e.tweaks,
          attempts: 0,
          next_attempt_ts: e.nextAttemptTs,
          created_ts: e.createdTs,
        })),
      )
      .execute();
  }

  /** Entries due at `now`, oldest first. */
  async due(now: number, limit: number): Promise<OutboxEntry[]> {
    const rows = await this.#db
      .selectFrom('push_outbox')
      .selectAll()
      .where('next_attempt_ts', '<=', now)
      .orderBy('next_attempt_ts')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(outboxFromRow);
  }

  /** The earliest time an entry is due, or undefined when the outbox is empty. */
  async nextDue(): Promise<number | undefined> {
    const row = await this.#db.selectFrom('push_outbox').select((eb) => eb.fn.min('next_attempt_ts').as('next')).executeTakeFirst();
    return row?.next === null || row?.next === undefined ? undefined : Number(row.next);
  }

  async remove(id: number): Promise<void> {
    await this.#db.deleteFrom('push_outbox').where('id', '=', id).execute();
  }

  async reschedule(id: number, attempts: number, nextAttemptTs: number): Promise<void> {
    await this.#db.updateTable('push_outbox').set({ attempts, next_attempt_ts: nextAttemptTs }).where('id', '=', id).execute();
  }
}

function fromRow(r: Database['pushers']): StoredPusher {
  return {
    userId: r.user_id,
    appId: r.app_id,
    pushkey: r.pushkey,
    kind: r.kind,
    appDisplayName: r.app_display_name,
    deviceDisplayName: r.device_display_name,
    profileTag: r.profile_tag,
    lang: r.lang,
    data: r.data,
    pushkeyTs: r.pushkey_ts,
  };
}

function outboxFromRow(r: { id: number; user_id: string; app_id: string; pushkey: string; room_id: string; event_id: string; tweaks: string; attempts: number; next_attempt_ts: number; created_ts: number }): OutboxEntry {
  return {
    id: r.id,
    userId: r.user_id,
    appId: r.app_id,
    pushkey: r.pushkey,
    roomId: r.room_id,
    eventId: r.event_id,
    tweaks: r.tweaks,
    attempts: r.attempts,
    nextAttemptTs: r.next_attempt_ts,
    createdTs: r.created_ts,
  };
}
