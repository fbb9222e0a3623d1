// State resolution v2 (content/rooms/fragments/v2-state-res.md "Algorithm", v2 … v11)
// and its v12 variant (content/rooms/v12.md "State resolution"), step by step.

import { stateKeyOf, type StateKey, type StateMap } from '../event-view.ts';
import type { AuthChecker } from './auth-checker.ts';
import { authDifference } from './auth-difference.ts';
import { conflictedStateSubgraph } from './conflicted-subgraph.ts';
import type { EventCache } from './event-cache.ts';
import { iterativeAuthChecks } from './iterative-auth-checks.ts';
import { mainlineSort } from './mainline-sort.ts';
import type { Pacer } from './pacer.ts';
import { sortPowerEvents } from './power-sort.ts';
import { splitConflictedState } from './split-conflicted.ts';

export interface V2Options {
  /** v12: include the conflicted state subgraph and start step 2 from an empty map. */
  readonly v12: boolean;
  readonly isRejected: (eventId: string) => boolean;
}

export async function resolveV2(
  stateSets: readonly StateMap[],
  authChains: readonly ReadonlySet<string>[],
  checker: AuthChecker,
  events: EventCache,
  pacer: Pacer,
  options: V2Options,
): Promise<Map<StateKey, string>> {
  const { unconflicted, conflicted } = splitConflictedState(stateSets);
  if (conflicted.size === 0) return unconflicted;

  const conflictedEventIds = new Set<string>();
  for (const ids of conflicted.values()) for (const id of ids) conflictedEventIds.add(id);

  // Full conflicted set: conflicted state set ∪ auth difference (∪ v12's subgraph),
  // keeping only events we can load: what cannot be seen cannot be checked.
  const fullConflictedSet = new Set<string>();
  const admit = (eventId: string): void => {
    if (events.get(eventId) !== undefined) fullConflictedSet.add(eventId);
  };
  for (const eventId of conflictedEventIds) admit(eventId);
  for (const eventId of authDifference(authChains)) admit(eventId);
  if (options.v12) {
    for (const eventId of await conflictedStateSubgraph(conflictedEventIds, events, pacer)) admit(eventId);
  }

  // 1. Power events and their conflicted auth ancestors, reverse topological power order.
  const sortedPowerEvents = await sortPowerEvents(fullConflictedSet, checker.rules, events, pacer);

  // 2. Iterative auth checks from the unconflicted state map (v12: from an empty map).
  const initialState = options.v12 ? new Map<StateKey, string>() : unconflicted;
  const partiallyResolved = await iterativeAuthChecks(
    sortedPowerEvents,
    initialState,
    checker,
    events,
    options.isRejected,
    pacer,
  );

  // 3. The remaining events in mainline order of the partially resolved power levels.
  const pickedInStep1 = new Set(sortedPowerEvents);
  const remaining: string[] = [];
  for (const eventId of fullConflictedSet) if (!pickedInStep1.has(eventId)) remaining.push(eventId);
  const sortedRemaining = await mainlineSort(
    remaining,
    partiallyResolved.get(stateKeyOf('m.room.power_levels', '')),
    events,
    pacer,
  );

  // 4. Iterative auth checks on the partially resolved state.
  const resolved = await iterativeAuthChecks(
    sortedRemaining,
    partiallyResolved,
    checker,
    events,
    options.isRejected,
    pacer,
  );

  // 5. The unconflicted state map wins.
  for (const [key, eventId] of unconflicted) resolved.set(key, eventId);
  return resolved;
}
