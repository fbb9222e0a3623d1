// What the membership endpoints (server-server § "Joining Rooms", "Leaving Rooms",
// "Knocking", "Inviting to a room") read of a room: its version, the template of a
// membership event built on the current forward extremities, whether the auth rules would
// allow it against the current state, and the state + auth chain a joining server needs.

import { authorizeEvent } from '../../../rooms/auth/authorize.ts';
import { authTypesForEvent } from '../../../rooms/auth/auth-types.ts';
import type { AuthResult } from '../../../rooms/auth/types.ts';
import { stateKeyOf, type EventView, type StateMap } from '../../../rooms/event-view.ts';
import { getField, isJsonObject, type JsonObject } from '../../../rooms/json.ts';
import { buildEvent, type PrevEventRef } from '../../../rooms/pdu/build.ts';
import { toEventView } from '../../../rooms/pdu/view.ts';
import { roomVersionRules, type RoomVersionRules } from '../../../rooms/room-versions.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import { MatrixError, notFound } from '../../../http/matrix-error.ts';

export type MembershipRoomReader = Pick<
  Roomserver,
  'roomVersion' | 'forwardExtremities' | 'event' | 'events' | 'stateEvent' | 'stateAt' | 'authChain' | 'members' | 'membership' | 'currentState'
>;

/** "The server SHOULD NOT … more than 20 prev_events". */
const MAX_PREV_EVENTS = 20;

export interface RoomRules {
  readonly roomVersion: string;
  readonly rules: RoomVersionRules;
}

/** The room's version and rules; 404 M_NOT_FOUND when this server does not know the room. */
export async function roomRules(rooms: MembershipRoomReader, roomId: string): Promise<RoomRules> {
  const roomVersion = await rooms.roomVersion(roomId);
  const rules = roomVersion === undefined ? undefined : roomVersionRules(roomVersion);
  if (roomVersion === undefined || rules === undefined) throw notFound('Unknown room');
  return { roomVersion, rules };
}

/**
 * make_join / make_knock: "the room version … MUST be one of the versions in `ver`";
 * otherwise 400 M_INCOMPATIBLE_ROOM_VERSION with the room's version.
 */
export function assertVersionSupported(roomVersion: string, query: URLSearchParams, defaultVersions: readonly string[]): void {
  const supported = query.getAll('ver');
  const accepted = supported.length === 0 ? defaultVersions : supported;
  if (!accepted.includes(roomVersion)) {
    throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Your homeserver does not support room version ${roomVersion}`, {
      room_version: roomVersion,
    });
  }
}

export interface TemplateInput {
  readonly roomId: string;
  readonly rules: RoomVersionRules;
  /** The member event's target (its state key). */
  readonly userId: string;
  /** Default `userId`: joins, leaves and knocks are sent by their target; invites are not. */
  readonly sender?: string;
  readonly content: JsonObject;
  readonly now: number;
}

export interface MembershipTemplate {
  /** The event without hashes, signatures or (v1–v2) event ID: the joining server adds them. */
  readonly event: JsonObject;
  /** Whether the auth rules allow the event against the current state, signed by us where it matters. */
  readonly auth: AuthResult;
  /** The current state the auth rules read (create, power levels, join rules, members…). */
  readonly state: (type: string, stateKey: string) => EventView | undefined;
}

/** Builds a membership event for `userId` on the room's forward extremities and checks it. */
export async function membershipTemplate(
  rooms: MembershipRoomReader,
  input: TemplateInput,
  ourServerName: string,
): Promise<MembershipTemplate> {
  const { rules, roomId, userId, content } = input;
  const sender = input.sender ?? userId;
  const prevEvents: PrevEventRef[] = [];
  for (const id of (await rooms.forwardExtremities(roomId)).slice(0, MAX_PREV_EVENTS)) {
    const event = await rooms.event(id, 'stored');
    if (event === undefined) continue;
    const hashes = getField(event.json, 'hashes');
    prevEvents.push({ eventId: id, depth: event.depth, ...(isJsonObject(hashes) ? { hashes } : {}) });
  }
  if (prevEvents.length === 0) throw notFound('Unknown room');

  const shape = { type: 'm.room.member', stateKey: userId, sender, content };
  const views = new Map<string, EventView>();
  const pairs: Array<[string, string]> = [...authTypesForEvent(rules, shape), ['m.room.create', '']];
  for (const [type, stateKey] of pairs) {
    const event = await rooms.stateEvent(roomId, type, stateKey);
    if (event !== undefined) views.set(stateKeyOf(type, stateKey), toEventView(event.json, rules, event.eventId));
  }
  const state = (type: string, stateKey: string): EventView | undefined => views.get(stateKeyOf(type, stateKey));
  const authEvents: Array<{ eventId: string; hashes?: JsonObject }> = [];
  for (const [type, stateKey] of authTypesForEvent(rules, shape)) {
    const view = state(type, stateKey);
    if (view === undefined || authEvents.some((a) => a.eventId === view.eventId)) continue;
    const hashes = getField(view.raw, 'hashes');
    authEvents.push({ eventId: view.eventId, ...(isJsonObject(hashes) ? { hashes } : {}) });
  }

  const built = buildEvent({
    rules,
    roomId,
    type: 'm.room.member',
    stateKey: userId,
    sender,
    content,
    originServerTs: input.now,
    prevEvents,
    authEvents,
    // v1–v2 need an event ID to build; the joining server replaces it with its own.
    ...(rules.format.requireEventIdField ? { eventIdLocalpart: 'template' } : {}),
  });
  // joins-v1.yaml: the template's `origin` is "the name of the resident homeserver".
  const event: JsonObject = { ...built, origin: ourServerName };
  delete event['hashes'];
  delete event['event_id'];

  const view = toEventView(event, rules, '$template');
  const auth = authorizeEvent(view, {
    rules,
    state,
    // A restricted join is signed by the authorising user's server (us) at send_join.
    isSignedBy: (_event, serverName) => serverName === ourServerName,
    verifyThirdPartySignature: () => false,
  });
  return { event, auth, state };
}

/** Every state event in `state` and the auth chains of them and of `extra`, as stored PDUs. */
export async function stateAndAuthChain(
  rooms: MembershipRoomReader,
  state: StateMap,
  extraAuthRoots: readonly string[],
): Promise<{ state: JsonObject[]; authChain: JsonObject[] }> {
  const stateIds = [...state.values()];
  const chainIds = await rooms.authChain([...stateIds, ...extraAuthRoots]);
  return { state: await pdusOf(rooms, stateIds), authChain: await pdusOf(rooms, [...new Set(chainIds)]) };
}

/** Stored events as PDUs, redacted where a redaction applied (as other servers must see them). */
export async function pdusOf(rooms: Pick<MembershipRoomReader, 'events'>, ids: readonly string[]): Promise<JsonObject[]> {
  const out: JsonObject[] = [];
  // A large room's state and auth chain are thousands of events: read them in big batches.
  for (let i = 0; i < ids.length; i += 5000) {
    for (const event of await rooms.events(ids.slice(i, i + 5000), 'client')) out.push(event.json);
  }
  return out;
}

/** The stripped state a knocking or invited user sees (client-server § "Stripped state"). */
export const STRIPPED_STATE_TYPES = [
  'm.room.create',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.join_rules',
  'm.room.canonical_alias',
  'm.room.encryption',
] as const;

export async function strippedState(rooms: Pick<MembershipRoomReader, 'stateEvent'>, roomId: string): Promise<JsonObject[]> {
  const out: JsonObject[] = [];
  for (const type of STRIPPED_STATE_TYPES) {
    const event = await rooms.stateEvent(roomId, type, '');
    if (event === undefined) continue;
    const content = getField(event.json, 'content');
    out.push({ type, state_key: '', sender: event.sender, content: isJsonObject(content) ? content : {} });
  }
  return out;
}
