// The rules about an event's `auth_events` list itself: v1–v11 rule 2, v12 rule 3.

import type { EventView } from '../event-view.ts';
import { stateKeyOf } from '../event-view.ts';
import type { RoomVersionRules } from '../room-versions.ts';
import { authTypesForEvent } from './auth-types.ts';
import { authEventsRule, topRule } from './rule-numbers.ts';
import type { AuthEventsInput, AuthResult } from './types.ts';
import { ALLOW, deny } from './result.ts';

export function checkAuthEventsList(
  rules: RoomVersionRules,
  event: EventView,
  input: AuthEventsInput,
): AuthResult {
  const byId = new Map<string, EventView>();
  for (const authEvent of input.events) byId.set(authEvent.eventId, authEvent);
  const entries: EventView[] = [];
  for (const id of event.authEvents) {
    const authEvent = byId.get(id);
    // Not a numbered rule: without the event the rules cannot be evaluated at all.
    if (authEvent === undefined) {
      return deny(topRule(rules, 'authEvents'), `auth event ${id} is unknown`);
    }
    entries.push(authEvent);
  }

  // 1. Duplicate entries for a (type, state_key) pair.
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = stateKeyOf(entry.type, entry.stateKey ?? '');
    if (entry.stateKey !== undefined && seen.has(key)) {
      return deny(
        authEventsRule(rules, 'duplicate'),
        `auth_events name (${entry.type}, ${entry.stateKey}) twice`,
      );
    }
    seen.add(key);
  }

  // 2. Entries the auth events selection would not pick.
  const expected = new Set(authTypesForEvent(rules, event).map(([t, k]) => stateKeyOf(t, k)));
  for (const entry of entries) {
    if (entry.stateKey === undefined || !expected.has(stateKeyOf(entry.type, entry.stateKey))) {
      return deny(
        authEventsRule(rules, 'selection'),
        `auth event ${entry.eventId} (${entry.type}, ${entry.stateKey ?? 'no state_key'}) is not selected for this event`,
      );
    }
  }

  // 3. Entries that were themselves rejected.
  for (const entry of entries) {
    if (input.isRejected(entry.eventId)) {
      return deny(authEventsRule(rules, 'rejected'), `auth event ${entry.eventId} was rejected`);
    }
  }

  // 4. (v1–v11) The create event must be among them.
  if (
    rules.format.createInAuthEvents &&
    !entries.some((entry) => entry.type === 'm.room.create' && entry.stateKey === '')
  ) {
    return deny(authEventsRule(rules, 'missingCreate'), 'no m.room.create event among auth_events');
  }

  // 5. (v12: 4) Every entry belongs to the event's room.
  for (const entry of entries) {
    if (entry.roomId !== event.roomId) {
      return deny(
        authEventsRule(rules, 'roomId'),
        `auth event ${entry.eventId} is in room ${entry.roomId ?? '(none)'}, not ${event.roomId ?? '(none)'}`,
      );
    }
  }
  return ALLOW;
}

/**
 * A `state` lookup over a list of auth events, for authorising an event against its
 * own auth events (the first check on receipt). Rejected events are not state.
 */
export function stateFromAuthEvents(
  events: readonly EventView[],
  isRejected: (eventId: string) => boolean = () => false,
): (type: string, stateKey: string) => EventView | undefined {
  const state = new Map<string, EventView>();
  for (const authEvent of events) {
    if (authEvent.stateKey === undefined || isRejected(authEvent.eventId)) continue;
    state.set(stateKeyOf(authEvent.type, authEvent.stateKey), authEvent);
  }
  return (type, stateKey) => state.get(stateKeyOf(type, stateKey));
}
