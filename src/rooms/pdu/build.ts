// Building local events: the PDU fields of the room version's format, depth, auth events
// and the content hash (content/server-server-api.md "PDUs", "Auth events selection",
// "Adding hashes and signatures to outgoing events"). The result is unsigned: signing
// needs the server's key, which lives in src/crypto; the caller signs what this returns.
// No clock and no randomness here: timestamps and opaque ID parts come from the caller.

import { authTypesForEvent, type AuthTypesInput } from '../auth/auth-types.ts';
import { roomIdFromCreateEvent } from '../event-id.ts';
import { withContentHash } from '../hashes.ts';
import { serverNameOf } from '../identifiers.ts';
import { getField, type JsonObject, type JsonValue } from '../json.ts';
import type { RoomVersionRules } from '../room-versions.ts';
import { MAX_DEPTH } from './limits.ts';
import { redactsIsInContent } from './view.ts';

/** An event referenced from `prev_events` or `auth_events`. */
export interface EventRef {
  readonly eventId: string;
  /** v1–v2 only: the referenced event's `hashes`, written into the `[event_id, hashes]` pair. */
  readonly hashes?: JsonObject;
}

export interface PrevEventRef extends EventRef {
  readonly depth: number;
}

export interface BuildEventInput {
  readonly rules: RoomVersionRules;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey?: string;
  readonly sender: string;
  readonly content: JsonObject;
  readonly originServerTs: number;
  /** The room's forward extremities the event follows (at most 20). */
  readonly prevEvents: readonly PrevEventRef[];
  /** Usually `selectAuthEvents(...)` over the state before the event. */
  readonly authEvents: readonly (string | EventRef)[];
  /** For `m.room.redaction`: top-level in v1–v10, `content.redacts` from v11. */
  readonly redacts?: string;
  readonly unsigned?: JsonObject;
  /** v1–v2 only: the opaque part of `$opaque:server`; the server is the sender's. */
  readonly eventIdLocalpart?: string;
}

/**
 * `depth`: "the maximum depth of the prev_events, plus one … If the room's depth is already
 * at the limit, the depth must be set to the limit" (pdu_v1.yaml, depth_v6.yaml).
 */
export function depthAfter(prevEvents: readonly { readonly depth: number }[]): number {
  let deepest = 0;
  for (const prev of prevEvents) deepest = Math.max(deepest, prev.depth);
  return Math.min(deepest + 1, MAX_DEPTH);
}

/**
 * The auth events of a new event ("Auth events selection"): the event IDs that `state`
 * (usually the state before the event) holds for the pairs the selection names. In v12
 * the create event is not among them.
 */
export function selectAuthEvents(
  rules: RoomVersionRules,
  event: AuthTypesInput,
  state: (type: string, stateKey: string) => string | undefined,
): string[] {
  const selected: string[] = [];
  for (const [type, stateKey] of authTypesForEvent(rules, event)) {
    const eventId = state(type, stateKey);
    if (eventId !== undefined && !selected.includes(eventId)) selected.push(eventId);
  }
  return selected;
}

function edge(ref: string | EventRef, rules: RoomVersionRules): JsonValue {
  const eventId = typeof ref === 'string' ? ref : ref.eventId;
  if (rules.format.eventIdFormat !== 'v1') return eventId;
  const hashes = typeof ref === 'string' ? undefined : ref.hashes;
  return [eventId, hashes ?? {}];
}

function v1EventId(rules: RoomVersionRules, sender: string, localpart: string | undefined): string | undefined {
  if (!rules.format.requireEventIdField) return undefined;
  const server = serverNameOf(sender);
  if (localpart === undefined || localpart === '' || server === undefined) {
    throw new TypeError(`room version ${rules.id} events need an event ID localpart and a sender with a server name`);
  }
  return `$${localpart}:${server}`;
}

/** The unsigned event with `hashes.sha256` set, in the room version's format. */
export function buildEvent(input: BuildEventInput): JsonObject {
  const { rules } = input;
  const event: JsonObject = {};
  const eventId = v1EventId(rules, input.sender, input.eventIdLocalpart);
  if (eventId !== undefined) event['event_id'] = eventId;
  event['room_id'] = input.roomId;
  event['type'] = input.type;
  if (input.stateKey !== undefined) event['state_key'] = input.stateKey;
  event['sender'] = input.sender;
  event['origin_server_ts'] = input.originServerTs;
  event['depth'] = depthAfter(input.prevEvents);
  event['prev_events'] = input.prevEvents.map((ref) => edge(ref, rules));
  event['auth_events'] = input.authEvents.map((ref) => edge(ref, rules));
  if (input.redacts !== undefined && redactsIsInContent(rules)) {
    event['content'] = { ...input.content, redacts: input.redacts };
  } else {
    event['content'] = input.content;
    if (input.redacts !== undefined) event['redacts'] = input.redacts;
  }
  if (input.unsigned !== undefined) event['unsigned'] = input.unsigned;
  return withContentHash(event);
}

export interface BuildCreateEventInput {
  readonly rules: RoomVersionRules;
  readonly sender: string;
  /** `room_version` and (v1–v10) `creator` are filled in when absent. */
  readonly content: JsonObject;
  readonly originServerTs: number;
  /** v1–v11: the opaque part of `!opaque:server` (the server is the sender's). Unused in v12. */
  readonly roomIdLocalpart?: string;
  /** v1–v2 only: the opaque part of the event ID. */
  readonly eventIdLocalpart?: string;
  readonly unsigned?: JsonObject;
}

export interface BuiltCreateEvent {
  readonly event: JsonObject;
  readonly roomId: string;
}

/**
 * The `m.room.create` event of a new room. v1–v11 name the room `!opaque:server`; v12 has
 * no `room_id` on the create event and derives the room ID from its reference hash
 * (content/rooms/v12.md), which signatures do not change, so it is final before signing.
 */
export function buildCreateEvent(input: BuildCreateEventInput): BuiltCreateEvent {
  const { rules } = input;
  const content: JsonObject = { ...input.content };
  const declared = getField(content, 'room_version');
  if (declared !== undefined && declared !== rules.id) {
    throw new TypeError(`create content names room version ${String(declared)}, building ${rules.id}`);
  }
  content['room_version'] = rules.id;
  // v1–v10 auth rule 1.4 rejects a create event without `creator`; v11 dropped it.
  if (!rules.auth.useCreateSender && getField(content, 'creator') === undefined) {
    content['creator'] = input.sender;
  }

  const event: JsonObject = {};
  const eventId = v1EventId(rules, input.sender, input.eventIdLocalpart);
  if (eventId !== undefined) event['event_id'] = eventId;
  let roomId: string | undefined;
  if (rules.format.createHasRoomId) {
    const server = serverNameOf(input.sender);
    if (input.roomIdLocalpart === undefined || input.roomIdLocalpart === '' || server === undefined) {
      throw new TypeError(`room version ${rules.id} needs a room ID localpart and a sender with a server name`);
    }
    roomId = `!${input.roomIdLocalpart}:${server}`;
    event['room_id'] = roomId;
  }
  event['type'] = 'm.room.create';
  event['state_key'] = '';
  event['sender'] = input.sender;
  event['origin_server_ts'] = input.originServerTs;
  event['depth'] = depthAfter([]);
  event['prev_events'] = [];
  event['auth_events'] = [];
  event['content'] = content;
  if (input.unsigned !== undefined) event['unsigned'] = input.unsigned;

  const hashed = withContentHash(event);
  return { event: hashed, roomId: roomId ?? roomIdFromCreateEvent(hashed, rules) };
}

