// A room described for people who have not joined it: the shape shared by the published
// room directory (public_rooms_chunk.yaml), room summaries (room_summary.yaml) and the space
// hierarchy, built from the room's current state here or parsed from another server's answer.

import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';

export interface RoomSummary {
  readonly roomId: string;
  readonly roomVersion: string | undefined;
  readonly numJoinedMembers: number;
  readonly name: string | undefined;
  readonly topic: string | undefined;
  readonly canonicalAlias: string | undefined;
  readonly avatarUrl: string | undefined;
  /** undefined when the room has no m.room.join_rules event. */
  readonly joinRule: string | undefined;
  readonly worldReadable: boolean;
  readonly guestCanJoin: boolean;
  readonly roomType: string | undefined;
  /** The rooms a `restricted`/`knock_restricted` join rule names; empty otherwise. */
  readonly allowedRoomIds: readonly string[];
  readonly encryption: string | undefined;
}

/** The state types a summary is built from. */
export const SUMMARY_STATE_TYPES = [
  'm.room.create',
  'm.room.name',
  'm.room.topic',
  'm.room.canonical_alias',
  'm.room.avatar',
  'm.room.join_rules',
  'm.room.history_visibility',
  'm.room.guest_access',
  'm.room.encryption',
] as const;

/** The only algorithm room_summary.yaml's `encryption` enum admits. */
const MEGOLM = 'm.megolm.v1.aes-sha2';

/** A summary from the contents of the room's state events (keyed by type, state key ""). */
export function summaryFromState(
  roomId: string,
  roomVersion: string | undefined,
  numJoinedMembers: number,
  contents: ReadonlyMap<string, JsonObject>,
): RoomSummary {
  const str = (type: string, key: string): string | undefined => {
    const content = contents.get(type);
    const value = content === undefined ? undefined : getField(content, key);
    return typeof value === 'string' ? value : undefined;
  };
  const alias = str('m.room.canonical_alias', 'alias');
  const joinRule = str('m.room.join_rules', 'join_rule');
  const name = str('m.room.name', 'name');
  const avatar = str('m.room.avatar', 'url');
  const encryption = str('m.room.encryption', 'algorithm');
  const joinRules = contents.get('m.room.join_rules');
  return {
    roomId,
    roomVersion,
    numJoinedMembers,
    name: name === '' ? undefined : name,
    topic: plainTopic(contents.get('m.room.topic')),
    canonicalAlias: alias !== undefined && alias.startsWith('#') ? alias : undefined,
    avatarUrl: avatar === '' ? undefined : avatar,
    joinRule,
    worldReadable: str('m.room.history_visibility', 'history_visibility') === 'world_readable',
    guestCanJoin: str('m.room.guest_access', 'guest_access') === 'can_join',
    roomType: str('m.room.create', 'type'),
    allowedRoomIds:
      joinRule === 'restricted' || joinRule === 'knock_restricted' ? allowedRoomIdsOf(joinRules === undefined ? undefined : getField(joinRules, 'allow')) : [],
    encryption: encryption === MEGOLM ? encryption : undefined,
  };
}

/**
 * The plain-text topic: the `text/plain` representation of `m.topic` when there is one,
 * else the `topic` field (client-server § m.room.topic).
 */
function plainTopic(content: JsonObject | undefined): string | undefined {
  if (content === undefined) return undefined;
  const rich = getField(content, 'm.topic');
  const blocks = isJsonObject(rich) ? getField(rich, 'm.text') : undefined;
  if (Array.isArray(blocks)) {
    for (const block of blocks) {
      if (!isJsonObject(block)) continue;
      const mimetype = getField(block, 'mimetype');
      const body = getField(block, 'body');
      if ((mimetype === undefined || mimetype === 'text/plain') && typeof body === 'string') return body;
    }
  }
  const topic = getField(content, 'topic');
  return typeof topic === 'string' && topic !== '' ? topic : undefined;
}

function allowedRoomIdsOf(allow: JsonValue | undefined): string[] {
  if (!Array.isArray(allow)) return [];
  const ids: string[] = [];
  for (const entry of allow) {
    if (!isJsonObject(entry) || getField(entry, 'type') !== 'm.room_membership') continue;
    const roomId = getField(entry, 'room_id');
    if (typeof roomId === 'string' && roomId.startsWith('!') && !ids.includes(roomId)) ids.push(roomId);
  }
  return ids;
}

/** public_rooms_chunk.yaml. */
export function publicRoomsChunk(summary: RoomSummary): JsonObject {
  const chunk: JsonObject = {
    room_id: summary.roomId,
    num_joined_members: summary.numJoinedMembers,
    world_readable: summary.worldReadable,
    guest_can_join: summary.guestCanJoin,
  };
  if (summary.name !== undefined) chunk['name'] = summary.name;
  if (summary.topic !== undefined) chunk['topic'] = summary.topic;
  if (summary.canonicalAlias !== undefined) chunk['canonical_alias'] = summary.canonicalAlias;
  if (summary.avatarUrl !== undefined) chunk['avatar_url'] = summary.avatarUrl;
  if (summary.joinRule !== undefined) chunk['join_rule'] = summary.joinRule;
  if (summary.roomType !== undefined) chunk['room_type'] = summary.roomType;
  return chunk;
}

/** room_summary.yaml: the directory chunk plus what summaries and hierarchies add. */
export function roomSummaryJson(summary: RoomSummary): JsonObject {
  const json = publicRoomsChunk(summary);
  if (summary.allowedRoomIds.length > 0) json['allowed_room_ids'] = [...summary.allowedRoomIds];
  if (summary.encryption !== undefined) json['encryption'] = summary.encryption;
  if (summary.roomVersion !== undefined) json['room_version'] = summary.roomVersion;
  return json;
}

/** A summary from another server's JSON (a hierarchy or directory entry); undefined when unusable. */
export function parseRoomSummary(json: JsonValue | undefined): RoomSummary | undefined {
  if (!isJsonObject(json)) return undefined;
  const roomId = getField(json, 'room_id');
  if (typeof roomId !== 'string' || !roomId.startsWith('!')) return undefined;
  const str = (key: string): string | undefined => {
    const value = getField(json, key);
    return typeof value === 'string' ? value : undefined;
  };
  const members = getField(json, 'num_joined_members');
  const alias = str('canonical_alias');
  const allowed = getField(json, 'allowed_room_ids');
  return {
    roomId,
    roomVersion: str('room_version'),
    numJoinedMembers: typeof members === 'number' && Number.isSafeInteger(members) && members >= 0 ? members : 0,
    name: str('name'),
    topic: str('topic'),
    canonicalAlias: alias !== undefined && alias.startsWith('#') ? alias : undefined,
    avatarUrl: str('avatar_url'),
    joinRule: str('join_rule'),
    worldReadable: getField(json, 'world_readable') === true,
    guestCanJoin: getField(json, 'guest_can_join') === true,
    roomType: str('room_type'),
    allowedRoomIds: Array.isArray(allowed) ? allowed.filter((id): id is string => typeof id === 'string' && id.startsWith('!')) : [],
    encryption: str('encryption') === MEGOLM ? MEGOLM : undefined,
  };
}
