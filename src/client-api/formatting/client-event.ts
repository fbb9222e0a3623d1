// The client event format (client-server § "Room event format"; OpenAPI
// definitions/client_event.yaml and client_event_without_room_id.yaml): the keys clients read,
// taken from the stored federation-format JSON, with `unsigned` built by this server. The
// PDU's own `unsigned` (set by the sending server, untrusted) is never passed through.

import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { RoomEvent } from '../../roomserver/index.ts';

/** `client`: ClientEvent (with `room_id`); `sync`: ClientEventWithoutRoomID, as /sync nests it under the room. */
export type ClientEventFormat = 'client' | 'sync';

/** What the server adds under `unsigned` besides `age`; each key only when known. */
export interface UnsignedExtras {
  /** Content of the state event this one replaced, when the user may see that event. */
  readonly prevContent?: JsonObject;
  /** ID of the state event this one replaced (shown regardless of history visibility). */
  readonly replacesState?: string;
  /** The redaction event, already in client format. */
  readonly redactedBecause?: JsonObject;
  /** Only for the device that sent the event. */
  readonly transactionId?: string;
  /** The requesting user's membership at the event (after it), `leave` when none. */
  readonly membership?: string;
  /** Bundled aggregations, `m.relations` (§ "Aggregations of child events"). */
  readonly relations?: JsonObject;
}

export interface ClientEventOptions {
  readonly format: ClientEventFormat;
  /** Milliseconds since the epoch, for `unsigned.age`. */
  readonly now: number;
  readonly unsigned?: UnsignedExtras;
}

export function toClientEvent(event: RoomEvent, options: ClientEventOptions): JsonObject {
  const out: JsonObject = {
    event_id: event.eventId,
    type: event.type,
    content: clientContent(event.type, event.json),
    sender: event.sender,
    origin_server_ts: event.originServerTs,
  };
  if (options.format === 'client') out['room_id'] = event.roomId;
  if (event.stateKey !== undefined) out['state_key'] = event.stateKey;
  const redacts = redactsOf(event.type, event.json);
  if (redacts !== undefined) out['redacts'] = redacts;

  const unsigned: JsonObject = { age: Math.max(0, options.now - event.originServerTs) };
  const extras = options.unsigned;
  if (extras?.prevContent !== undefined) unsigned['prev_content'] = extras.prevContent;
  if (extras?.replacesState !== undefined) unsigned['replaces_state'] = extras.replacesState;
  if (extras?.redactedBecause !== undefined) unsigned['redacted_because'] = extras.redactedBecause;
  if (extras?.transactionId !== undefined) unsigned['transaction_id'] = extras.transactionId;
  if (extras?.membership !== undefined) unsigned['membership'] = extras.membership;
  if (extras?.relations !== undefined) unsigned['m.relations'] = extras.relations;
  out['unsigned'] = unsigned;
  return out;
}

/**
 * `redacts` of an m.room.redaction: top-level in v1–v10, in `content` from v11. Servers
 * serve it in both places whatever the room version stores (rooms/v11.md, "Moving the
 * `redacts` property"), so clients of either era find it.
 */
export function redactsOf(type: string, json: JsonObject): string | undefined {
  if (type !== 'm.room.redaction') return undefined;
  const top = getField(json, 'redacts');
  if (typeof top === 'string') return top;
  const content = getField(json, 'content');
  const inner = isJsonObject(content) ? getField(content, 'redacts') : undefined;
  return typeof inner === 'string' ? inner : undefined;
}

/** The event's content as served to clients: `redacts` added for redactions (see redactsOf). */
export function clientContent(type: string, json: JsonObject): JsonObject {
  const content = getField(json, 'content');
  const base = isJsonObject(content) ? content : {};
  const redacts = redactsOf(type, json);
  return redacts === undefined || getField(base, 'redacts') === redacts ? base : { ...base, redacts };
}
