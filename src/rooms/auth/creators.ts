// Who created the room, per version (content/rooms/v11.md, v12.md):
// v1–v10 name the creator in `content.creator`; v11 uses the create event's `sender`;
// v12 adds `content.additional_creators`, and all creators hold infinite power.

import type { EventView } from '../event-view.ts';
import { getField } from '../json.ts';
import type { RoomVersionRules } from '../room-versions.ts';

/** The creator the first-join rule compares with (v1–v10 `content.creator`, else `sender`). */
export function roomCreator(rules: RoomVersionRules, create: EventView): string | undefined {
  if (rules.auth.useCreateSender) return create.sender;
  const creator = getField(create.content, 'creator');
  return typeof creator === 'string' ? creator : undefined;
}

/** Every creator: the one creator, plus v12's `additional_creators` strings. */
export function roomCreators(rules: RoomVersionRules, create: EventView | undefined): ReadonlySet<string> {
  const creators = new Set<string>();
  if (create === undefined) return creators;
  const creator = roomCreator(rules, create);
  if (creator !== undefined) creators.add(creator);
  if (rules.auth.additionalCreators) {
    const additional = getField(create.content, 'additional_creators');
    // Rule 1.4 rejected a malformed list on the create event itself; skip non-strings anyway.
    if (Array.isArray(additional)) {
      for (const userId of additional) if (typeof userId === 'string') creators.add(userId);
    }
  }
  return creators;
}
