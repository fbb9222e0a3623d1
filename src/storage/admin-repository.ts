// What the admin API (src/admin/api, issue 8 item 5) reads and writes beyond the other
// repositories: user listings with profiles and last-seen times, roles, room summaries from
// the current state, blocked rooms, room deletions, registration-token administration,
// media listings and the server-notices rooms.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';
import type { StoaDatabase } from './database.ts';

export interface AdminUserRow {
  readonly userId: string;
  readonly hasPassword: boolean;
  readonly createdTs: number;
  readonly isAdmin: boolean;
  readonly isGuest: boolean;
  readonly deactivated: boolean;
  readonly erased: boolean;
  readonly shadowBanned: boolean;
  /** The profile's fields as stored (JSON text), null when never set. */
  readonly profile: string | null;
  /** The newest last-seen time of any of the user's devices. */
  readonly lastSeenTs: number | null;
}

export interface UserFilter {
  /** false: no guests. */
  readonly guests: boolean;
  /** false: no deactivated accounts. */
  readonly deactivated: boolean;
  /** true: only admins; false: only non-admins; undefined: both. */
  readonly admins: boolean | undefined;
}

export interface DeviceSeen {
  readonly deviceId: string;
  readonly lastSeenTs: number | null;
  readonly lastSeenIp: string | null;
}

/** One current-state event of a room, with its JSON. */
export interface RoomStateRow {
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string;
  readonly json: string;
}

export interface RoomCounts {
  readonly joinedMembers: number;
  readonly joinedLocalMembers: number;
  readonly stateEvents: number;
}

export interface RoomDeletionRow {
  readonly deleteId: string;
  readonly roomId: string;
  readonly status: string;
  readonly result: string;
  readonly error: string | null;
  readonly requestedBy: string;
  readonly createdTs: number;
}

export interface AdminMediaRow {
  readonly mediaId: string;
  readonly contentType: string | null;
  readonly filename: string | null;
  readonly size: number | null;
  readonly createdTs: number;
  readonly quarantinedBy: string | null;
}

export interface AdminRegistrationToken {
  readonly token: string;
  readonly usesAllowed: number | null;
  readonly completed: number;
  readonly expiryTs: number | null;
}

export interface EventReportRow {
  readonly id: number;
  readonly ts: number;
  readonly reporter: string;
  readonly roomId: string | null;
  readonly eventId: string | null;
  readonly reason: string | null;
  readonly score: number | null;
}

export class AdminRepository {
  readonly #db: Kysely<Database>;

  constructor(db: StoaDatabase | Kysely<Database>) {
    this.#db = 'kysely' in db ? db.kysely : db;
  }

  // --- users --------------------------------------------------------------------------------

  #usersQuery() {
    return this.#db
      .selectFrom('users')
      .leftJoin('profiles', 'profiles.user_id', 'users.user_id')
      .leftJoin('erased_users', 'erased_users.user_id', 'users.user_id')
      .leftJoin('shadow_banned_users', 'shadow_banned_users.user_id', 'users.user_id')
      .select((eb) => [
        'erased_users.erased_ts',
        'shadow_banned_users.banned_ts',
        'users.user_id',
        'users.password_hash',
        'users.created_ts',
        'users.is_admin',
        'users.is_guest',
        'users.deactivated',
        'profiles.fields',
        eb.selectFrom('devices').select((d) => d.fn.max('devices.last_seen_ts').as('m')).whereRef('devices.user_id', '=', 'users.user_id').as('last_seen_ts'),
      ]);
  }

  /** Every user the filter lets through (the admin API sorts and pages them). */
  async listUsers(filter: UserFilter): Promise<AdminUserRow[]> {
    let query = this.#usersQuery();
    if (!filter.guests) query = query.where('users.is_guest', '=', false);
    if (!filter.deactivated) query = query.where('users.deactivated', '=', false);
    if (filter.admins !== undefined) query = query.where('users.is_admin', '=', filter.admins);
    return (await query.orderBy('users.user_id').execute()).map(userRow);
  }

  async findUser(userId: string): Promise<AdminUserRow | undefined> {
    const row = await this.#usersQuery().where('users.user_id', '=', userId).executeTakeFirst();
    return row === undefined ? undefined : userRow(row);
  }

  async setAdmin(userId: string, isAdmin: boolean): Promise<void> {
    await this.#db.updateTable('users').set({ is_admin: isAdmin }).where('user_id', '=', userId).execute();
  }

  /** Re-activates a deactivated account (it then needs a password to log in again). */
  async reactivate(userId: string): Promise<void> {
    await this.#db.updateTable('users').set({ deactivated: false }).where('user_id', '=', userId).execute();
  }

  async markErased(userId: string, now: number): Promise<void> {
    await this.#db
      .insertInto('erased_users')
      .values({ user_id: userId, erased_ts: now })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .execute();
  }

  async isErased(userId: string): Promise<boolean> {
    const row = await this.#db.selectFrom('erased_users').select('user_id').where('user_id', '=', userId).executeTakeFirst();
    return row !== undefined;
  }

  async devicesSeen(userId: string): Promise<DeviceSeen[]> {
    const rows = await this.#db
      .selectFrom('devices')
      .select(['device_id', 'last_seen_ts', 'last_seen_ip'])
      .where('user_id', '=', userId)
      .orderBy('device_id')
      .execute();
    return rows.map((r) => ({ deviceId: r.device_id, lastSeenTs: r.last_seen_ts, lastSeenIp: r.last_seen_ip }));
  }

  // --- roles --------------------------------------------------------------------------------

  /** Whether the user is an admin (and not deactivated), and their other roles. */
  async accessOf(userId: string): Promise<{ isAdmin: boolean; roles: string[] }> {
    const user = await this.#db.selectFrom('users').select(['is_admin', 'deactivated']).where('user_id', '=', userId).executeTakeFirst();
    if (user === undefined || user.deactivated) return { isAdmin: false, roles: [] };
    return { isAdmin: user.is_admin, roles: await this.rolesOf(userId) };
  }

  async rolesOf(userId: string): Promise<string[]> {
    const rows = await this.#db.selectFrom('admin_roles').select('role').where('user_id', '=', userId).orderBy('role').execute();
    return rows.map((r) => r.role);
  }

  async grantRole(userId: string, role: string, grantedBy: string, now: number): Promise<void> {
    await this.#db
      .insertInto('admin_roles')
      .values({ user_id: userId, role, granted_by: grantedBy, granted_ts: now })
      .onConflict((oc) => oc.columns(['user_id', 'role']).doNothing())
      .execute();
  }

  async revokeRole(userId: string, role: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('admin_roles').where('user_id', '=', userId).where('role', '=', role).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // --- rooms --------------------------------------------------------------------------------

  /** Every room this server knows, or the one `roomId` names (none when unknown). */
  async listRooms(roomId?: string): Promise<Array<{ roomId: string; roomVersion: string; creator: string; isPublic: boolean; createdTs: number }>> {
    let query = this.#db.selectFrom('rooms').selectAll().orderBy('room_id');
    if (roomId !== undefined) query = query.where('room_id', '=', roomId);
    const rows = await query.execute();
    return rows.map((r) => ({ roomId: r.room_id, roomVersion: r.room_version, creator: r.creator, isPublic: r.is_public, createdTs: r.created_ts }));
  }

  /** The current state events of the given types (every room when `roomId` is unset). */
  async currentStateOfTypes(types: readonly string[], roomId?: string): Promise<RoomStateRow[]> {
    let query = this.#db
      .selectFrom('current_state')
      .innerJoin('events', 'events.event_id', 'current_state.event_id')
      .select(['current_state.room_id', 'current_state.type', 'current_state.state_key', 'events.json'])
      .where('current_state.type', 'in', [...types]);
    if (roomId !== undefined) query = query.where('current_state.room_id', '=', roomId);
    const rows = await query.execute();
    return rows.map((r) => ({ roomId: r.room_id, type: r.type, stateKey: r.state_key, json: r.json }));
  }

  /** Joined members (all, and of `serverName`) and state-event counts per room. */
  async roomCounts(serverName: string, roomId?: string): Promise<Map<string, RoomCounts>> {
    let query = this.#db
      .selectFrom('current_state')
      .select((eb) => [
        'room_id',
        eb.fn.countAll<number>().as('state_events'),
        eb.fn.count<number>(eb.case().when('membership', '=', 'join').then(1).end()).as('joined'),
        eb.fn
          .count<number>(eb.case().when(eb.and([eb('membership', '=', 'join'), eb('state_key', 'like', `%:${escapeLike(serverName)}`)])).then(1).end())
          .as('joined_local'),
      ])
      .groupBy('room_id');
    if (roomId !== undefined) query = query.where('room_id', '=', roomId);
    const counts = new Map<string, RoomCounts>();
    for (const row of await query.execute()) {
      counts.set(row.room_id, { stateEvents: Number(row.state_events), joinedMembers: Number(row.joined), joinedLocalMembers: Number(row.joined_local) });
    }
    return counts;
  }

  async blockRoom(roomId: string, by: string, now: number): Promise<void> {
    await this.#db
      .insertInto('blocked_rooms')
      .values({ room_id: roomId, blocked_by: by, blocked_ts: now })
      .onConflict((oc) => oc.column('room_id').doNothing())
      .execute();
  }

  async unblockRoom(roomId: string): Promise<void> {
    await this.#db.deleteFrom('blocked_rooms').where('room_id', '=', roomId).execute();
  }

  async roomBlock(roomId: string): Promise<{ blockedBy: string } | undefined> {
    const row = await this.#db.selectFrom('blocked_rooms').select('blocked_by').where('room_id', '=', roomId).executeTakeFirst();
    return row === undefined ? undefined : { blockedBy: row.blocked_by };
  }

  async insertDeletion(row: RoomDeletionRow): Promise<void> {
    await this.#db
      .insertInto('room_deletions')
      .values({
        delete_id: row.deleteId,
        room_id: row.roomId,
        status: row.status,
        result: row.result,
        error: row.error,
        requested_by: row.requestedBy,
        created_ts: row.createdTs,
      })
      .execute();
  }

  async finishDeletion(deleteId: string, status: string, result: string, error: string | null): Promise<void> {
    await this.#db.updateTable('room_deletions').set({ status, result, error }).where('delete_id', '=', deleteId).execute();
  }

  async deletions(by: { deleteId: string } | { roomId: string }): Promise<RoomDeletionRow[]> {
    let query = this.#db.selectFrom('room_deletions').selectAll().orderBy('created_ts');
    query = 'deleteId' in by ? query.where('delete_id', '=', by.deleteId) : query.where('room_id', '=', by.roomId);
    return (await query.execute()).map((r) => ({
      deleteId: r.delete_id,
      roomId: r.room_id,
      status: r.status,
      result: r.result,
      error: r.error,
      requestedBy: r.requested_by,
      createdTs: r.created_ts,
    }));
  }

  /** Takes the room out of the public room directory. */
  async unpublishRoom(roomId: string): Promise<void> {
    await this.#db.updateTable('rooms').set({ is_public: false }).where('room_id', '=', roomId).execute();
  }

  /** Removes the room's local aliases; returns them. */
  async deleteAliasesOf(roomId: string): Promise<string[]> {
    const rows = await this.#db.deleteFrom('room_aliases').where('room_id', '=', roomId).returning('room_alias').execute();
    return rows.map((r) => r.room_alias).sort();
  }

  /** JSON of the room's events that mention an `mxc://` URI (for the room media listing). */
  async eventsMentioningMedia(roomId: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('events')
      .select('json')
      .where('room_id', '=', roomId)
      .where('outlier', '=', false)
      .where('json', 'like', '%mxc://%')
      .execute();
    return rows.map((r) => r.json);
  }

  // --- media --------------------------------------------------------------------------------

  async mediaOfUser(userId: string, from: number, limit: number, direction: 'asc' | 'desc'): Promise<{ media: AdminMediaRow[]; total: number }> {
    const rows = await this.#db
      .selectFrom('media')
      .select(['media_id', 'content_type', 'filename', 'size', 'created_ts', 'quarantined_by'])
      .where('user_id', '=', userId)
      .orderBy('created_ts', direction)
      .orderBy('media_id', direction)
      .offset(from)
      .limit(limit)
      .execute();
    const total = await this.#db
      .selectFrom('media')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return {
      media: rows.map((r) => ({
        mediaId: r.media_id,
        contentType: r.content_type,
        filename: r.filename,
        size: r.size,
        createdTs: r.created_ts,
        quarantinedBy: r.quarantined_by,
      })),
      total: Number(total.n),
    };
  }

  // --- event reports (content_reports, migration 0014) ---------------------------------------

  /** Reports of events, `dir` b (newest first, Synapse's default) or f, with the total. */
  async eventReports(filter: { userId?: string; roomId?: string }, from: number, limit: number, dir: 'f' | 'b'): Promise<{ reports: EventReportRow[]; total: number }> {
    let base = this.#db.selectFrom('content_reports').where('kind', '=', 'event');
    if (filter.userId !== undefined) base = base.where('reporter', 'like', `%${escapeLike(filter.userId)}%`);
    if (filter.roomId !== undefined) base = base.where('room_id', 'like', `%${escapeLike(filter.roomId)}%`);
    const rows = await base
      .selectAll()
      .orderBy('id', dir === 'f' ? 'asc' : 'desc')
      .offset(from)
      .limit(limit)
      .execute();
    const total = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { reports: rows.map(reportRow), total: Number(total.n) };
  }

  async eventReport(id: number): Promise<EventReportRow | undefined> {
    const row = await this.#db.selectFrom('content_reports').selectAll().where('kind', '=', 'event').where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : reportRow(row);
  }

  async deleteEventReport(id: number): Promise<boolean> {
    const result = await this.#db.deleteFrom('content_reports').where('kind', '=', 'event').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // --- registration tokens ------------------------------------------------------------------

  /** Every token; `valid` true: only usable ones at `now`, false: only unusable ones. */
  async registrationTokens(valid: boolean | undefined, now: number): Promise<AdminRegistrationToken[]> {
    let query = this.#db.selectFrom('registration_tokens').selectAll().orderBy('created_ts').orderBy('token');
    if (valid !== undefined) {
      query = query.where((eb) => {
        const usable = eb.and([
          eb.or([eb('uses_allowed', 'is', null), eb('completed', '<', eb.ref('uses_allowed'))]),
          eb.or([eb('expiry_ts', 'is', null), eb('expiry_ts', '>', now)]),
        ]);
        return valid ? usable : eb.not(usable);
      });
    }
    return (await query.execute()).map((r) => ({ token: r.token, usesAllowed: r.uses_allowed, completed: r.completed, expiryTs: r.expiry_ts }));
  }

  /** Changes `uses_allowed` and/or `expiry_ts` (each only when given); false when unknown. */
  async updateRegistrationToken(token: string, changes: { usesAllowed?: number | null; expiryTs?: number | null }): Promise<boolean> {
    const set: { uses_allowed?: number | null; expiry_ts?: number | null } = {};
    if (changes.usesAllowed !== undefined) set.uses_allowed = changes.usesAllowed;
    if (changes.expiryTs !== undefined) set.expiry_ts = changes.expiryTs;
    if (Object.keys(set).length === 0) {
      const row = await this.#db.selectFrom('registration_tokens').select('token').where('token', '=', token).executeTakeFirst();
      return row !== undefined;
    }
    const result = await this.#db.updateTable('registration_tokens').set(set).where('token', '=', token).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteRegistrationToken(token: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('registration_tokens').where('token', '=', token).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  // --- shadow bans ---------------------------------------------------------------------------

  async shadowBannedUsers(): Promise<string[]> {
    const rows = await this.#db.selectFrom('shadow_banned_users').select('user_id').execute();
    return rows.map((r) => r.user_id);
  }

  async setShadowBanned(userId: string, banned: boolean, by: string, now: number): Promise<void> {
    if (!banned) {
      await this.#db.deleteFrom('shadow_banned_users').where('user_id', '=', userId).execute();
      return;
    }
    await this.#db
      .insertInto('shadow_banned_users')
      .values({ user_id: userId, banned_by: by, banned_ts: now })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .execute();
  }

  // --- rate-limit overrides ------------------------------------------------------------------

  async rateLimitOverrides(): Promise<Array<{ userId: string; messagesPerSecond: number; burstCount: number }>> {
    const rows = await this.#db.selectFrom('ratelimit_overrides').selectAll().execute();
    return rows.map((r) => ({ userId: r.user_id, messagesPerSecond: r.messages_per_second, burstCount: r.burst_count }));
  }

  async setRateLimitOverride(userId: string, messagesPerSecond: number, burstCount: number): Promise<void> {
    await this.#db
      .insertInto('ratelimit_overrides')
      .values({ user_id: userId, messages_per_second: messagesPerSecond, burst_count: burstCount })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ messages_per_second: messagesPerSecond, burst_count: burstCount }))
      .execute();
  }

  async deleteRateLimitOverride(userId: string): Promise<void> {
    await this.#db.deleteFrom('ratelimit_overrides').where('user_id', '=', userId).execute();
  }

  // --- server notices -----------------------------------------------------------------------

  async serverNoticeRoom(userId: string): Promise<string | undefined> {
    const row = await this.#db.selectFrom('server_notice_rooms').select('room_id').where('user_id', '=', userId).executeTakeFirst();
    return row?.room_id;
  }

  async setServerNoticeRoom(userId: string, roomId: string, now: number): Promise<void> {
    await this.#db
      .insertInto('server_notice_rooms')
      .values({ user_id: userId, room_id: roomId, created_ts: now })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ room_id: roomId, created_ts: now }))
      .execute();
  }
}

function userRow(row: {
  user_id: string;
  password_hash: string | null;
  created_ts: number;
  is_admin: boolean;
  is_guest: boolean;
  deactivated: boolean;
  fields: string | null;
  last_seen_ts: number | null;
  erased_ts: number | null;
  banned_ts: number | null;
}): AdminUserRow {
  return {
    userId: row.user_id,
    hasPassword: row.password_hash !== null,
    createdTs: row.created_ts,
    isAdmin: row.is_admin,
    isGuest: row.is_guest,
    deactivated: row.deactivated,
    erased: row.erased_ts !== null,
    shadowBanned: row.banned_ts !== null,
    profile: row.fields,
    lastSeenTs: row.last_seen_ts === null ? null : Number(row.last_seen_ts),
  };
}

function reportRow(row: { id: number; ts: number; reporter: string; room_id: string | null; event_id: string | null; reason: string | null; score: number | null }): EventReportRow {
  return {
    id: Number(row.id),
    ts: Number(row.ts),
    reporter: row.reporter,
    roomId: row.room_id,
    eventId: row.event_id,
    reason: row.reason,
    score: row.score,
  };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

