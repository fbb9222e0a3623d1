// Auth chains: the events reachable from an event by its `auth_events` links
// (content/rooms/fragments/v2-state-res.md "Auth chain").

/** Reads an event's `auth_events`; `undefined` when the event is unknown. */
export type AuthEventsOf = (eventId: string) => readonly string[] | undefined;

/**
 * The union of the auth chains of `eventIds`, without the events themselves unless one
 * is in another's chain. Unknown events end their branch of the walk.
 */
export function authChainOf(eventIds: Iterable<string>, authEventsOf: AuthEventsOf): Set<string> {
  const chain = new Set<string>();
  const stack: string[] = [];
  for (const eventId of eventIds) {
    for (const authId of authEventsOf(eventId) ?? []) stack.push(authId);
  }
  walk(stack, chain, authEventsOf);
  return chain;
}

/**
 * The full auth chain of a state set: its events and everything reachable from them by
 * `auth_events`. This is the per-state-set chain that state resolution v2 takes as input.
 */
export function fullAuthChain(stateEventIds: Iterable<string>, authEventsOf: AuthEventsOf): Set<string> {
  const chain = new Set<string>();
  walk([...stateEventIds], chain, authEventsOf);
  return chain;
}

function walk(stack: string[], seen: Set<string>, authEventsOf: AuthEventsOf): void {
  // Iterative, so a long auth chain cannot overflow the call stack.
  for (let eventId = stack.pop(); eventId !== undefined; eventId = stack.pop()) {
    if (seen.has(eventId)) continue;
    seen.add(eventId);
    for (const authId of authEventsOf(eventId) ?? []) {
      if (!seen.has(authId)) stack.push(authId);
    }
  }
}
