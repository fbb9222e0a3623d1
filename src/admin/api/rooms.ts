// Rooms (Synapse's room admin API, docs/admin_api/rooms.md):
//   GET    /_synapse/admin/v1/rooms                      list (from, limit, order_by, dir, search_term)
//   GET    /_synapse/admin/v1/rooms/{roomId}             details
//   GET    /_synapse/admin/v1/rooms/{roomId}/members
//   GET    /_synapse/admin/v1/rooms/{roomId}/state
//   GET    /_synapse/admin/v1/rooms/{roomId}/messages    (from, to, limit, dir)
//   DELETE /_synapse/admin/v1/rooms/{roomId}             shut down, answered when done
//   DELETE /_synapse/admin/v2/rooms/{roomId}             shut down → delete_id; status below
//   GET    /_synapse/admin/v2/rooms/{roomId}/delete_status, /v2/rooms/delete_status/{deleteId}
//   GET/PUT /_synapse/admin/v1/rooms/{roomId}/block
//   POST   /_synapse/admin/v1/rooms/{roomIdOrAlias}/make_room_admin
//
// Shutting a room down makes every local member leave (each leaves as itself, which the
// auth rules always allow) and optionally blocks the room. With `purge` (the default, as in
// Synapse) the room is then removed from the database: its events, state, aliases,
// directory entry and everything else ../../storage/room-purge-repository.ts lists, in one
// transaction, after which the room is unknown here (details answer 404) and the
// roomserver forgets what it cached about it. The purge is refused (403 M_FORBIDDEN) while
// a legal hold covers the room or the sender of any of its events, the rule retention and
// redaction pruning follow: checked before anything is done, and again inside the purge
// for a hold created meanwhile. Refusals are audit-logged, and so is each purge, with what
// it removed. Like Synapse, a purge refuses while local users are
// still joined (a leave failed) unless `force_purge`. The work is done before the DELETE
// is answered, so delete_status reports `complete` (or `failed`) at once.
//
// The room list is built, filtered and sorted in memory from two grouped queries over the
// current state: fine for thousands of rooms, not for a server holding millions.

import { randomUUID } from 'node:crypto';
import { jsonBody, type Endpoint } from '../../http/define-endpoint.ts';
import { forbidden, invalidParam, MatrixError, notFound } from '../../http/matrix-error.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import { roomVersionRules } from '../../rooms/room-versions.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { AdminRepository } from '../../storage/admin-repository.ts';
import { AliasesRepository } from '../../storage/aliases-repository.ts';
import { RoomUnderLegalHoldError, type RoomPurgeRepository, type RoomPurgeResult } from '../../storage/room-purge-repository.ts';
import type { Logger } from '../../logger.ts';
import type { AdminAccess, AdminCall } from './access.ts';
import { adminEvent } from './admin-event.ts';
import { dirParam, enumParam, intParam, roomIdParam, sortBy } from './params.ts';
import { withRoomErrors } from './room-errors.ts';

export interface RoomEndpointsDeps {
  readonly access: AdminAccess;
  readonly repository: AdminRepository;
  readonly aliases: AliasesRepository;
  readonly purges: RoomPurgeRepository;
  readonly roomserver: Roomserver;
  readonly serverName: string;
  readonly clock: () => number;
  readonly logger: Logger;
}

const SUMMARY_TYPES = [
  'm.room.create',
  'm.room.name',
  'm.room.topic',
  'm.room.avatar',
  'm.room.canonical_alias',
  'm.room.join_rules',
  'm.room.guest_access',
  'm.room.history_visibility',
  'm.room.encryption',
];

const ORDER_BY = [
  'name',
  'alphabetical',
  'size',
  'canonical_alias',
  'joined_members',
  'joined_local_members',
  'version',
  'creator',
  'encryption',
  'federatable',
  'public',
  'join_rules',
  'guest_access',
  'history_visibility',
  'state_events',
] as const;
type OrderBy = (typeof ORDER_BY)[number];

interface DeleteRoomBody extends JsonObject {
  new_room_user_id?: string;
  room_name?: string;
  message?: string;
  block?: boolean;
  purge?: boolean;
  force_purge?: boolean;
}

const DELETE_ROOM_BODY = jsonBody<DeleteRoomBody>({
  type: 'object',
  properties: {
    new_room_user_id: { type: 'string' },
    room_name: { type: 'string' },
    message: { type: 'string' },
    block: { type: 'boolean' },
    purge: { type: 'boolean' },
    force_purge: { type: 'boolean' },
  },
});

const BLOCK_BODY = jsonBody<{ block: boolean }>({ type: 'object', required: ['block'], properties: { block: { type: 'boolean' } } });
const MAKE_ADMIN_BODY = jsonBody<{ user_id?: string }>({ type: 'object', properties: { user_id: { type: 'string' } } });

interface ShutdownResult extends JsonObject {
  kicked_users: string[];
  failed_to_kick_users: string[];
  local_aliases: string[];
  new_room_id: null;
}

export function roomEndpoints(deps: RoomEndpointsDeps): Endpoint[] {
  const { access, repository, roomserver, serverName, clock } = deps;
  const targetRoom = ({ params }: { params: Readonly<Record<string, string>> }): string | null => params['roomId'] ?? null;

  async function summaries(roomId?: string): Promise<JsonObject[]> {
    const rooms = await repository.listRooms(roomId);
    const state = new Map<string, Map<string, JsonObject>>();
    for (const row of await repository.currentStateOfTypes(SUMMARY_TYPES, roomId)) {
      if (row.stateKey !== '') continue;
      let content: unknown;
      try {
        content = (JSON.parse(row.json) as { content?: unknown }).content;
      } catch {
        content = undefined;
      }
      if (!isJsonObject(content)) continue;
      let byType = state.get(row.roomId);
      if (byType === undefined) state.set(row.roomId, (byType = new Map()));
      byType.set(row.type, content);
    }
    const counts = await repository.roomCounts(serverName, roomId);
    return rooms.map((room) => {
      const s = state.get(room.roomId) ?? new Map<string, JsonObject>();
      const field = (type: string, key: string): JsonValue => {
        const value = s.get(type)?.[key];
        return typeof value === 'string' ? value : null;
      };
      const create = s.get('m.room.create') ?? {};
      const count = counts.get(room.roomId);
      return {
        room_id: room.roomId,
        name: field('m.room.name', 'name'),
        topic: field('m.room.topic', 'topic'),
        avatar: field('m.room.avatar', 'url'),
        canonical_alias: field('m.room.canonical_alias', 'alias'),
        joined_members: count?.joinedMembers ?? 0,
        joined_local_members: count?.joinedLocalMembers ?? 0,
        version: room.roomVersion,
        creator: room.creator,
        encryption: field('m.room.encryption', 'algorithm'),
        federatable: create['m.federate'] !== false,
        public: room.isPublic,
        join_rules: field('m.room.join_rules', 'join_rule'),
        guest_access: field('m.room.guest_access', 'guest_access'),
        history_visibility: field('m.room.history_visibility', 'history_visibility'),
        state_events: count?.stateEvents ?? 0,
        room_type: typeof create['type'] === 'string' ? create['type'] : null,
      };
    });
  }

  async function existingRoom(roomId: string): Promise<JsonObject> {
    const [summary] = await summaries(roomId);
    if (summary === undefined) throw notFound('Room not found');
    return summary;
  }

  async function shutdown(roomId: string, body: DeleteRoomBody, call: AdminCall, deleteId: string): Promise<ShutdownResult> {
    const known = (await roomserver.roomVersion(roomId)) !== undefined;
    const result: ShutdownResult = { kicked_users: [], failed_to_kick_users: [], local_aliases: [], new_room_id: null };
    if (body.block === true) await repository.blockRoom(roomId, call.requester.userId, clock());
    if (!known) return result;
    for (const membership of ['join', 'invite', 'knock']) {
      for (const userId of await roomserver.members(roomId, membership)) {
        if (!userId.endsWith(`:${serverName}`)) continue;
        try {
          await roomserver.setMembership({ roomId, sender: userId, target: userId, membership: 'leave' });
          result.kicked_users.push(userId);
        } catch (error) {
          deps.logger.warn({ err: error, room_id: roomId, user_id: userId }, 'room shutdown could not remove a member');
          result.failed_to_kick_users.push(userId);
        }
      }
    }
    if (body.purge ?? true) {
      const stillJoined = (await roomserver.members(roomId, 'join')).filter((u) => u.endsWith(`:${serverName}`));
      if (stillJoined.length > 0 && body.force_purge !== true) {
        throw new MatrixError(400, 'M_UNKNOWN', 'Local users are still joined to this room; not purging (force_purge overrides)');
      }
      const purged = await purgeRoom(roomId, call);
      result.local_aliases = [...purged.aliases];
      await call.audit('purge-room', roomId, purgeDetails(deleteId, purged, stillJoined));
    }
    return result;
  }

  /** Removes the room from the database, then from the roomserver's caches. */
  async function purgeRoom(roomId: string, call: AdminCall): Promise<RoomPurgeResult> {
    try {
      return await deps.purges.purge(roomId);
    } catch (error) {
      // A hold created since the check before the shutdown: refused all the same.
      if (error instanceof RoomUnderLegalHoldError) throw await refuseHeld(roomId, error.holdIds, call);
      throw error;
    } finally {
      // Even after a rollback: a failed commit may have happened, and a cache is cheap to refill.
      roomserver.forgetRoom(roomId);
    }
  }

  async function refuseHeld(roomId: string, holdIds: readonly string[], call: AdminCall): Promise<MatrixError> {
    await call.audit('purge-room-refused', roomId, { reason: 'legal-hold', hold_ids: [...holdIds] });
    return forbidden(`The room is under legal hold (${holdIds.join(', ')}): it cannot be purged until the hold is released`);
  }

  async function runDeletion(roomId: string, body: DeleteRoomBody, call: AdminCall): Promise<{ deleteId: string; result: ShutdownResult }> {
    if (body.new_room_user_id !== undefined) {
      throw invalidParam('new_room_user_id is not supported: Stoa does not create replacement rooms');
    }
    // Before anything is done, so a held room is not even shut down by a request to purge it.
    if (body.purge ?? true) {
      const holds = await deps.purges.holdsCovering(roomId);
      if (holds.length > 0) throw await refuseHeld(roomId, holds, call);
    }
    const deleteId = randomUUID();
    const empty: ShutdownResult = { kicked_users: [], failed_to_kick_users: [], local_aliases: [], new_room_id: null };
    await repository.insertDeletion({
      deleteId,
      roomId,
      status: 'active',
      result: JSON.stringify(empty),
      error: null,
      requestedBy: call.requester.userId,
      createdTs: clock(),
    });
    try {
      const result = await shutdown(roomId, body, call, deleteId);
      await repository.finishDeletion(deleteId, 'complete', JSON.stringify(result), null);
      await call.audit('delete-room', roomId, { delete_id: deleteId, block: body.block ?? false, purge: body.purge ?? true, kicked_users: result.kicked_users });
      return { deleteId, result };
    } catch (error) {
      await repository.finishDeletion(deleteId, 'failed', JSON.stringify(empty), error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  function deletionStatus(row: { deleteId: string; status: string; result: string; error: string | null }): JsonObject {
    const status: JsonObject = { delete_id: row.deleteId, status: row.status, shutdown_room: JSON.parse(row.result) as JsonObject };
    if (row.error !== null) status['error'] = row.error;
    return status;
  }

  return [
    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/rooms',
      access: 'read',
      action: 'list-rooms',
      handler: async ({ query }) => {
        const from = intParam(query, 'from', 0);
        const limit = intParam(query, 'limit', 100, 1000);
        const orderBy = enumParam<OrderBy>(query, 'order_by', ORDER_BY, 'name');
        // Synapse sorts sizes largest first by default, everything else ascending.
        const sizeOrder = orderBy === 'size' || orderBy === 'joined_members' || orderBy === 'joined_local_members' || orderBy === 'state_events';
        const dir = dirParam(query, sizeOrder ? 'b' : 'f');
        const term = query.get('search_term')?.toLowerCase() ?? '';
        const all = await summaries();
        const matching = all.filter((room) => {
          if (term === '') return true;
          return [room['room_id'], room['name'], room['canonical_alias']].some((v) => typeof v === 'string' && v.toLowerCase().includes(term));
        });
        const key = orderBy === 'alphabetical' ? 'name' : orderBy === 'size' ? 'joined_members' : orderBy;
        const sorted = sortBy(matching, (room) => {
          const value = room[key];
          return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
        }, (room) => String(room['room_id']), dir);
        const page = sorted.slice(from, from + limit);
        const response: JsonObject = { rooms: page, offset: from, total_rooms: matching.length };
        if (from + page.length < matching.length) response['next_batch'] = from + page.length;
        if (from > 0) response['prev_batch'] = Math.max(0, from - limit);
        return response;
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/rooms/:roomId',
      access: 'read',
      action: 'room-details',
      target: targetRoom,
      handler: async ({ params }) => {
        const roomId = roomIdParam(params['roomId']);
        const summary = await existingRoom(roomId);
        return { ...summary, joined_local_devices: 0, forgotten: false };
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/rooms/:roomId/members',
      access: 'read',
      action: 'room-members',
      target: targetRoom,
      handler: async ({ params }) => {
        const roomId = roomIdParam(params['roomId']);
        await existingRoom(roomId);
        const members = await roomserver.members(roomId, 'join');
        return { members, total: members.length };
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/rooms/:roomId/state',
      access: 'read',
      action: 'room-state',
      target: targetRoom,
      handler: async ({ params }) => {
        const roomId = roomIdParam(params['roomId']);
        await existingRoom(roomId);
        const now = clock();
        const state: JsonObject[] = [];
        for (const entry of await roomserver.currentState(roomId)) {
          const event = await roomserver.event(entry.eventId);
          if (event !== undefined) state.push(adminEvent(event, now));
        }
        return { state };
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/rooms/:roomId/messages',
      access: 'read',
      action: 'room-messages',
      target: targetRoom,
      handler: async ({ params, query }) => {
        const roomId = roomIdParam(params['roomId']);
        await existingRoom(roomId);
        const dir = dirParam(query, 'f');
        const limit = intParam(query, 'limit', 10, 1000);
        // Tokens are stream positions between events: forwards returns events after the
        // token, backwards the events at or before it.
        const latest = await roomserver.latestStreamPosition();
        const from = streamToken(query.get('from'), dir === 'f' ? 0 : latest);
        const to = query.get('to') === null ? undefined : streamToken(query.get('to'), 0);
        const events =
          dir === 'f'
            ? await roomserver.eventsInRange({ roomId, fromStream: from, toStream: Math.min(latest, to ?? latest), limit, direction: 'forward' })
            : await roomserver.eventsInRange({ roomId, fromStream: to ?? 0, toStream: from, limit, direction: 'backward' });
        const now = clock();
        const response: JsonObject = { chunk: events.map((event) => adminEvent(event, now)), start: String(from) };
        const last = events.at(-1);
        if (last !== undefined && events.length === limit && last.streamOrdering !== null) {
          response['end'] = String(dir === 'f' ? last.streamOrdering : last.streamOrdering - 1);
        }
        return response;
      },
    }),

    access.endpoint({
      method: 'DELETE',
      path: '/_synapse/admin/v1/rooms/:roomId',
      access: 'admin',
      body: DELETE_ROOM_BODY,
      handler: async ({ params, body }, call) => (await runDeletion(roomIdParam(params['roomId']), body, call)).result,
    }),

    access.endpoint({
      method: 'DELETE',
      path: '/_synapse/admin/v2/rooms/:roomId',
      access: 'admin',
      body: DELETE_ROOM_BODY,
      handler: async ({ params, body }, call) => ({ delete_id: (await runDeletion(roomIdParam(params['roomId']), body, call)).deleteId }),
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v2/rooms/:roomId/delete_status',
      access: 'read',
      action: 'room-delete-status',
      target: targetRoom,
      handler: async ({ params }) => {
        const rows = await repository.deletions({ roomId: roomIdParam(params['roomId']) });
        if (rows.length === 0) throw notFound('No delete task for room');
        return { results: rows.map(deletionStatus) };
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v2/rooms/delete_status/:deleteId',
      access: 'read',
      action: 'room-delete-status',
      target: ({ params }) => params['deleteId'] ?? null,
      handler: async ({ params }) => {
        const [row] = await repository.deletions({ deleteId: params['deleteId'] ?? '' });
        if (row === undefined) throw notFound('delete id not found');
        const { delete_id: _id, ...status } = deletionStatus(row);
        return status;
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/rooms/:roomId/block',
      access: 'read',
      action: 'room-block-status',
      target: targetRoom,
      handler: async ({ params }) => {
        const block = await repository.roomBlock(roomIdParam(params['roomId']));
        return block === undefined ? { block: false } : { block: true, user_id: block.blockedBy };
      },
    }),

    access.endpoint({
      method: 'PUT',
      path: '/_synapse/admin/v1/rooms/:roomId/block',
      access: 'admin',
      body: BLOCK_BODY,
      action: 'block-room',
      target: targetRoom,
      details: ({ body }) => ({ block: body.block }),
      handler: async ({ params, body, auth }) => {
        const roomId = roomIdParam(params['roomId']);
        if (body.block) await repository.blockRoom(roomId, auth.userId, clock());
        else await repository.unblockRoom(roomId);
        return { block: body.block };
      },
    }),

    access.endpoint({
      method: 'POST',
      path: '/_synapse/admin/v1/rooms/:roomIdOrAlias/make_room_admin',
      access: 'admin',
      body: MAKE_ADMIN_BODY,
      handler: async ({ params, body, auth }, call) => {
        const roomIdOrAlias = params['roomIdOrAlias'] ?? '';
        let roomId = roomIdOrAlias;
        if (roomIdOrAlias.startsWith('#')) {
          const alias = await deps.aliases.find(roomIdOrAlias);
          if (alias === undefined) throw notFound('Room alias not found');
          roomId = alias.roomId;
        }
        roomIdParam(roomId);
        await existingRoom(roomId);
        const target = body.user_id ?? auth.userId;
        if (!target.endsWith(`:${serverName}`)) throw invalidParam('The user must be local');
        await makeRoomAdmin(roomId, target);
        await call.audit('make-room-admin', roomId, { user_id: target });
        return {};
      },
    }),
  ];

  /**
   * Gives `target` the power of the most powerful local member: that member sends the new
   * power levels (and invites `target` when not in the room), so the auth rules apply as
   * for any other change.
   */
  async function makeRoomAdmin(roomId: string, target: string): Promise<void> {
    const create = await roomserver.stateEvent(roomId, 'm.room.create', '');
    const rules = create === undefined ? undefined : roomVersionRules(create.roomVersion);
    const createContent: JsonObject = isJsonObject(create?.json['content']) ? (create.json['content'] as JsonObject) : {};
    const creators = new Set<string>();
    if (create !== undefined) {
      const oldCreator = createContent['creator'];
      creators.add(rules?.auth.useCreateSender === false && typeof oldCreator === 'string' ? oldCreator : create.sender);
      const additional = createContent['additional_creators'];
      if (rules?.auth.additionalCreators === true && Array.isArray(additional)) {
        for (const c of additional) if (typeof c === 'string') creators.add(c);
      }
    }
    const privileged = rules?.auth.privilegeCreators === true;
    const plEvent = await roomserver.stateEvent(roomId, 'm.room.power_levels', '');
    const plContent: JsonObject = isJsonObject(plEvent?.json['content']) ? { ...(plEvent.json['content'] as JsonObject) } : {};
    const users: JsonObject = isJsonObject(plContent['users']) ? { ...(plContent['users'] as JsonObject) } : {};
    const levelOf = (userId: string): number => {
      if (privileged && creators.has(userId)) return Number.POSITIVE_INFINITY;
      const value = users[userId];
      if (typeof value === 'number') return value;
      if (plEvent === undefined && creators.has(userId)) return 100;
      const usersDefault = plContent['users_default'];
      return typeof usersDefault === 'number' ? usersDefault : 0;
    };
    const local = (await roomserver.members(roomId, 'join')).filter((u) => u.endsWith(`:${serverName}`));
    const admin = local.sort((a, b) => levelOf(b) - levelOf(a))[0];
    if (admin === undefined) throw new MatrixError(400, 'M_UNKNOWN', 'No local member of the room can grant admin rights');
    const adminLevel = levelOf(admin);
    const numericLevels = Object.values(users).filter((v): v is number => typeof v === 'number');
    const grant = Number.isFinite(adminLevel) ? adminLevel : Math.max(100, ...numericLevels);
    if (!(privileged && creators.has(target)) && levelOf(target) < grant) {
      users[target] = grant;
      await withRoomErrors(() =>
        roomserver.sendEvent({ roomId, sender: admin, type: 'm.room.power_levels', stateKey: '', content: { ...plContent, users } }),
      );
    }
    const membership = await roomserver.membership(roomId, target);
    if (membership !== 'join' && membership !== 'invite') {
      await withRoomErrors(() => roomserver.setMembership({ roomId, sender: admin, target, membership: 'invite' }));
    }
  }
}

/** The audit entry of a purge: what was removed, by table, and the span of the events. */
function purgeDetails(deleteId: string, purged: RoomPurgeResult, forcedPast: readonly string[]): JsonObject {
  const details: JsonObject = {
    delete_id: deleteId,
    rows: { ...purged.rows },
    local_aliases: [...purged.aliases],
    was_public: purged.wasPublic,
    stream_range: purged.streamRange === null ? null : [...purged.streamRange],
    origin_server_ts_range: purged.tsRange === null ? null : [...purged.tsRange],
  };
  if (forcedPast.length > 0) details['forced_past_joined_users'] = [...forcedPast];
  return details;
}

function streamToken(text: string | null, fallback: number): number {
  if (text === null || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw invalidParam('Invalid pagination token');
  return Number(text);
}
