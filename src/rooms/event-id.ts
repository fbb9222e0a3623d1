// Event IDs and v12 room IDs (content/rooms/fragments/v1-event-ids.md, content/rooms/v3.md
// § "Event IDs", fragments/v4-event-ids.md, content/rooms/v12.md, appendices.md § "Room IDs").

import { encodeBase64, encodeBase64Url } from './base64.ts';
import { computeReferenceHash } from './hashes.ts';
import { isValidEventId } from './identifiers.ts';
import { getField } from './json.ts';
import type { JsonObject } from './json.ts';
import type { RoomVersionRules } from './room-versions.ts';

export class EventIdError extends Error {
  override name = 'EventIdError';
}

/**
 * The event's ID: in rooms v1–v2 the `event_id` field the sending server chose; from v3
 * on, `$` + the reference hash (standard Base64 in v3, URL-safe from v4). Throws
 * `EventIdError` for a v1–v2 event without a valid `event_id`, and `CanonicalJsonError`
 * if a v3+ event cannot be canonically encoded.
 */
export function computeEventId(event: JsonObject, rules: RoomVersionRules): string {
  switch (rules.format.eventIdFormat) {
    case 'v1': {
      const id = getField(event, 'event_id');
      if (typeof id !== 'string' || !isValidEventId(id, rules)) {
        throw new EventIdError(`room version ${rules.id} events must carry a valid event_id`);
      }
      return id;
    }
    case 'v3':
      return `$${encodeBase64(computeReferenceHash(event, rules))}`;
    case 'v4':
      return `$${encodeBase64Url(computeReferenceHash(event, rules))}`;
  }
}

/**
 * v12: the room ID is `!` + the URL-safe reference hash of the `m.room.create` event (its
 * event ID with `!` for `$`). Earlier versions' room IDs are chosen, not derived, so this
 * throws `EventIdError` for them.
 */
export function roomIdFromCreateEvent(create: JsonObject, rules: RoomVersionRules): string {
  if (rules.format.createHasRoomId) {
    throw new EventIdError(`room version ${rules.id} room IDs are not derived from the create event`);
  }
  if (getField(create, 'type') !== 'm.room.create') throw new EventIdError('not an m.room.create event');
  return `!${encodeBase64Url(computeReferenceHash(create, rules))}`;
}

/** Whether `id` has the event ID format of the room version. */
export function eventIdMatchesFormat(id: string, rules: RoomVersionRules): boolean {
  return isValidEventId(id, rules);
}
