// Finding an event's `m.room.create`. Up to v11 the create
// event is among the `auth_events`; in v12 it must not be, and the room ID names it
// (content/rooms/v12.md: the room ID is the create event's ID with `!` for `$`).

import type { EventView } from '../event-view.ts';
import type { RoomVersionRules } from '../room-versions.ts';
import type { EventCache } from './event-cache.ts';

export function isCreateEvent(event: EventView): boolean {
  return event.type === 'm.room.create' && event.stateKey === '';
}

/** The create event ID a v12 room ID implies, or `undefined` for other room IDs. */
export function createEventIdFromRoomId(roomId: string | undefined): string | undefined {
  if (roomId === undefined || !roomId.startsWith('!') || roomId.length < 2 || roomId.includes(':')) {
    return undefined;
  }
  return `$${roomId.slice(1)}`;
}

export function findCreateEvent(event: EventView, rules: RoomVersionRules, events: EventCache): EventView | undefined {
  if (isCreateEvent(event)) return event;
  if (!rules.format.createInAuthEvents) {
    const createId = createEventIdFromRoomId(event.roomId);
    const create = createId === undefined ? undefined : events.get(createId);
    return create !== undefined && isCreateEvent(create) ? create : undefined;
  }
  for (const authId of event.authEvents) {
    const authEvent = events.get(authId);
    if (authEvent !== undefined && isCreateEvent(authEvent)) return authEvent;
  }
  return undefined;
}
