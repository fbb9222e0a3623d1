// Rule 1: `m.room.create` (v1–v10: fragments/v1-auth-rules.md; v11.md; v12.md).

import type { EventView } from '../event-view.ts';
import { getField } from '../json.ts';
import { isSupportedRoomVersion } from '../room-versions.ts';
import type { RoomVersionRules } from '../room-versions.ts';
import { isValidUserId, serverNameOf } from './identifiers.ts';
import { ALLOW, deny } from './result.ts';
import { createRule } from './rule-numbers.ts';
import type { AuthResult } from './types.ts';

export function authorizeCreate(rules: RoomVersionRules, event: EventView): AuthResult {
  // 1.1
  if (event.prevEvents.length > 0) {
    return deny(createRule(rules, 'prevEvents'), 'the create event has prev_events');
  }

  if (rules.format.createHasRoomId) {
    // 1.2 (v1–v11)
    const roomServer = event.roomId === undefined ? undefined : serverNameOf(event.roomId);
    if (roomServer === undefined || roomServer !== serverNameOf(event.sender)) {
      return deny(
        createRule(rules, 'roomIdDomain'),
        "the room ID's domain does not match the sender's domain",
      );
    }
  } else if (event.roomId !== undefined) {
    // 1.2 (v12): the room ID is derived from the create event, never carried by it.
    return deny(createRule(rules, 'noRoomId'), 'the create event has a room_id');
  }

  // 1.3
  const roomVersion = getField(event.content, 'room_version');
  if (roomVersion !== undefined && !(typeof roomVersion === 'string' && isSupportedRoomVersion(roomVersion))) {
    return deny(createRule(rules, 'roomVersion'), 'content.room_version is not a recognised version');
  }

  // 1.4 (v1–v10)
  if (!rules.auth.useCreateSender && getField(event.content, 'creator') === undefined) {
    return deny(createRule(rules, 'creator'), 'content has no creator');
  }

  // 1.4 (v12)
  if (rules.auth.additionalCreators) {
    const additional = getField(event.content, 'additional_creators');
    if (
      additional !== undefined &&
      !(Array.isArray(additional) && additional.every((id) => typeof id === 'string' && isValidUserId(id)))
    ) {
      return deny(
        createRule(rules, 'additionalCreators'),
        'content.additional_creators is not an array of valid user IDs',
      );
    }
  }
  return ALLOW;
}
