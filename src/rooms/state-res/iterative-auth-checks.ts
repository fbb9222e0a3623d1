// v2-state-res.md "Iterative auth checks": apply each event of a sorted list to the
// state if the auth rules allow it there. A key the rules need that the state lacks is
// filled from the event's own auth events, unless that auth event was rejected.

import { stateKeyOf, type EventView, type StateKey } from '../event-view.ts';
import { authTypesOf, isAllowed, type AuthChecker } from './auth-checker.ts';
import type { EventCache } from './event-cache.ts';
import type { Pacer } from './pacer.ts';
import { findCreateEvent } from './room-create.ts';

export async function iterativeAuthChecks(
  sortedEventIds: readonly string[],
  initialState: ReadonlyMap<StateKey, string>,
  checker: AuthChecker,
  events: EventCache,
  isRejected: (eventId: string) => boolean,
  pacer: Pacer,
): Promise<Map<StateKey, string>> {
  const state = new Map(initialState);
  for (const eventId of sortedEventIds) {
    const event = events.get(eventId);
    if (event !== undefined && event.stateKey !== undefined) {
      const authState = authStateFor(event, state, checker, events, isRejected);
      if (isAllowed(checker, event, (type, stateKey) => authState.get(stateKeyOf(type, stateKey)))) {
        state.set(stateKeyOf(event.type, event.stateKey), eventId);
      }
    }
    const turn = pacer.step();
    if (turn) await turn;
  }
  return state;
}

function authStateFor(
  event: EventView,
  state: ReadonlyMap<StateKey, string>,
  checker: AuthChecker,
  events: EventCache,
  isRejected: (eventId: string) => boolean,
): Map<StateKey, EventView> {
  const authState = new Map<StateKey, EventView>();
  for (const authId of event.authEvents) {
    const authEvent = events.get(authId);
    if (authEvent === undefined || authEvent.stateKey === undefined || isRejected(authId)) continue;
    authState.set(stateKeyOf(authEvent.type, authEvent.stateKey), authEvent);
  }
  // v12 events do not cite the create event; their room ID names it.
  const createKey = stateKeyOf('m.room.create', '');
  if (!checker.rules.format.createInAuthEvents && !authState.has(createKey)) {
    const create = findCreateEvent(event, checker.rules, events);
    if (create !== undefined && create.eventId !== event.eventId) authState.set(createKey, create);
  }
  // The (partially) resolved state wins over the event's own auth events.
  for (const [type, stateKey] of authTypesOf(checker, event)) {
    const key = stateKeyOf(type, stateKey);
    const resolvedId = state.get(key);
    const resolved = resolvedId === undefined ? undefined : events.get(resolvedId);
    if (resolved !== undefined) authState.set(key, resolved);
  }
  return authState;
}
