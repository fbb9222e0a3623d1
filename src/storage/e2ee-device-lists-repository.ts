// Device lists (client-server § "Tracking the device list for a user"; server-server
// § "Device Management"): the stream of "user X's devices or keys changed" positions that
// /sync, /keys/changes and outgoing `m.device_list_update` EDUs are built from, and the
// cached device lists of remote users with the remote stream ID last applied.

import { sql, type Kysely } from 'kysely';
import { STREAM_SEQUENCES, type Database } from '../../schema/database.ts';

export interface RemoteDeviceListState {
  readonly streamId: number;
  readonly stale: boolean;
}

export interface RemoteDevice {
  readonly deviceId: string;
  readonly displayName: string | null;
  /** The device keys JSON, or null when the server sent none. */
  readonly keyJson: string | null;
}

export interface MemberEventRow {
  readonly roomId: string;
  readonly userId: string;
  readonly membership: string | undefined;
}

export class E2eeDeviceListsRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  // --- the stream ---

  /** Records a change for each user; returns the highest position written. */
  async appendChanges(userIds: readonly string[], now: number): Promise<number> {
    const unique = [...new Set(userIds)];
    if (unique.length === 0) return this.maxStreamId();
    return this.#db.transaction().execute(async (trx) => {
      let last = 0;
      for (const userId of unique) {
        const { rows } = await sql<{ position: number }>`select nextval(${STREAM_SEQUENCES.e2e_device_lists}) as position`.execute(trx);
        const position = rows[0]?.position;
        if (position === undefined) throw new Error('nextval returned no row');
        await trx.insertInto('e2e_device_list_stream').values({ stream_id: position, user_id: userId, created_ts: now }).execute();
        last = Math.max(last, position);
      }
      return last;
    });
  }

  async maxStreamId(): Promise<number> {
    const row = await this.#db
      .selectFrom('e2e_device_list_stream')
      .select((eb) => eb.fn.max('stream_id').as('max'))
      .executeTakeFirst();
    return row?.max === null || row?.max === undefined ? 0 : Number(row.max);
  }

  /** The users among `among` (all users when undefined) with a change in (after, upTo]. */
  async changedUsers(after: number, upTo: number, among?: ReadonlySet<string>): Promise<string[]> {
    if (upTo <= after) return [];
    if (among !== undefined && among.size === 0) return [];
    let query = this.#db
      .selectFrom('e2e_device_list_stream')
      .select('user_id')
      .distinct()
      .where('stream_id', '>', after)
      .where('stream_id', '<=', upTo);
    if (among !== undefined) query = query.where('user_id', 'in', [...among]);
    const rows = await query.orderBy('user_id').execute();
    return rows.map((r) => r.user_id);
  }

  /** The user's latest position at or below `atMost` (0 when none): an EDU's `stream_id`/`prev_id`. */
  async latestFor(userId: string, atMost = Number.MAX_SAFE_INTEGER): Promise<number> {
    const row = await this.#db
      .selectFrom('e2e_device_list_stream')
      .select((eb) => eb.fn.max('stream_id').as('max'))
      .where('user_id', '=', userId)
      .where('stream_id', '<=', atMost)
      .executeTakeFirst();
    return row?.max === null || row?.max === undefined ? 0 : Number(row.max);
  }

  /**
   * Membership events (accepted, in the timeline) of `roomIds` with stream ordering in
   * (after, upTo], oldest first: who started or stopped sharing a room with someone.
   */
  async memberEventsInRooms(roomIds: readonly string[], after: number, upTo: number): Promise<MemberEventRow[]> {
    if (roomIds.length === 0 || upTo <= after) return [];
    const rows = await this.#db
      .selectFrom('events')
      .select(['room_id', 'state_key', 'json'])
      .where('room_id', 'in', [...roomIds])
      .where('type', '=', 'm.room.member')
      .where('stream_ordering', '>', after)
      .where('stream_ordering', '<=', upTo)
      .where('rejected_reason', 'is', null)
      .where('soft_failed', '=', false)
      .orderBy('stream_ordering')
      .execute();
    return rows.flatMap((r) => (r.state_key === null ? [] : [{ roomId: r.room_id, userId: r.state_key, membership: membershipOf(r.json) }]));
  }

  // --- remote users' device lists ---

  async remoteState(userId: string): Promise<RemoteDeviceListState | undefined> {
    const row = await this.#db
      .selectFrom('e2e_remote_device_lists')
      .select(['stream_id', 'stale'])
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row === undefined ? undefined : { streamId: row.stream_id, stale: row.stale };
  }

  /**
   * Those of `userIds` joined to a room a user of `serverName` is joined to (other than
   * `exceptRoom`): the users whose device lists that server receives updates about.
   */
  async sharingRoomWithServer(userIds: readonly string[], serverName: string, exceptRoom?: string): Promise<string[]> {
    if (userIds.length === 0) return [];
    const suffix = `:${serverName}`;
    const { rows } = await sql<{ user_id: string }>`
      select distinct a.state_key as user_id
      from current_state a join current_state b on b.room_id = a.room_id
      where a.type = 'm.room.member' and a.membership = 'join' and a.state_key in (${sql.join([...new Set(userIds)])})
        and b.type = 'm.room.member' and b.membership = 'join'
        and right(b.state_key, ${suffix.length}) = ${suffix}
        and a.room_id <> ${exceptRoom ?? ''}`.execute(this.#db);
    return rows.map((r) => r.user_id);
  }

  /** Those of `userIds` whose cached list is current (not stale). */
  async trackedAmong(userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await this.#db
      .selectFrom('e2e_remote_device_lists')
      .select('user_id')
      .where('user_id', 'in', [...new Set(userIds)])
      .where('stale', '=', false)
      .execute();
    return rows.map((r) => r.user_id);
  }

  async remoteDevices(userId: string): Promise<RemoteDevice[]> {
    const rows = await this.#db
      .selectFrom('e2e_remote_devices')
      .select(['device_id', 'display_name', 'key_json'])
      .where('user_id', '=', userId)
      .orderBy('device_id')
      .execute();
    return rows.map((r) => ({ deviceId: r.device_id, displayName: r.display_name, keyJson: r.key_json }));
  }

  /** Replaces a remote user's whole device list (a resync). */
  async replaceRemoteDevices(userId: string, streamId: number, devices: readonly RemoteDevice[], now: number): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('e2e_remote_devices').where('user_id', '=', userId).execute();
      if (devices.length > 0) {
        await trx
          .insertInto('e2e_remote_devices')
          .values(devices.map((d) => ({ user_id: userId, device_id: d.deviceId, display_name: d.displayName, key_json: d.keyJson })))
          .execute();
      }
      await upsertRemoteState(trx, userId, streamId, false, now);
    });
  }

  /** Applies one `m.device_list_update` whose `prev_id`s we have all seen. */
  async applyRemoteUpdate(
    userId: string,
    streamId: number,
    update: { readonly deviceId: string; readonly deleted: boolean; readonly displayName: string | null; readonly keyJson: string | null },
    now: number,
  ): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      if (update.deleted) {
        await trx.deleteFrom('e2e_remote_devices').where('user_id', '=', userId).where('device_id', '=', update.deviceId).execute();
      } else {
        await trx
          .insertInto('e2e_remote_devices')
          .values({ user_id: userId, device_id: update.deviceId, display_name: update.displayName, key_json: update.keyJson })
          .onConflict((oc) =>
            oc.columns(['user_id', 'device_id']).doUpdateSet({ display_name: update.displayName, key_json: update.keyJson }),
          )
          .execute();
      }
      await upsertRemoteState(trx, userId, streamId, false, now);
    });
  }

  /** Marks a remote user's cached list as needing a resync (a gap in `prev_id`). */
  async markRemoteStale(userId: string, now: number): Promise<void> {
    await this.#db
      .insertInto('e2e_remote_device_lists')
      .values({ user_id: userId, stream_id: 0, stale: true, updated_ts: now })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ stale: true, updated_ts: now }))
      .execute();
  }
}

async function upsertRemoteState(trx: Kysely<Database>, userId: string, streamId: number, stale: boolean, now: number): Promise<void> {
  await trx
    .insertInto('e2e_remote_device_lists')
    .values({ user_id: userId, stream_id: streamId, stale, updated_ts: now })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ stream_id: streamId, stale, updated_ts: now }))
    .execute();
}

function membershipOf(json: string): string | undefined {
  try {
    const parsed = JSON.parse(json) as { content?: { membership?: unknown } };
    const membership = parsed.content?.membership;
    return typeof membership === 'string' ? membership : undefined;
  } catch {
    return undefined;
  }
}
