// The unconflicted state map and the conflicted state set.

import type { StateKey, StateMap } from '../event-view.ts';

export interface SplitState {
  readonly unconflicted: Map<StateKey, string>;
  /** Key → the distinct event IDs the state sets hold for it. */
  readonly conflicted: Map<StateKey, Set<string>>;
}

/**
 * v2-state-res.md "Unconflicted state map and conflicted state set": a key is
 * unconflicted only when every state set holds it with the same event, so a key that
 * some state set lacks is conflicted.
 */
export function splitConflictedState(stateSets: readonly StateMap[]): SplitState {
  const unconflicted = new Map<StateKey, string>();
  const conflicted = new Map<StateKey, Set<string>>();
  const [first, ...rest] = stateSets;
  if (first === undefined) return { unconflicted, conflicted };

  for (const [key, eventId] of first) {
    let same = true;
    for (const other of rest) {
      if (other.get(key) !== eventId) {
        same = false;
        break;
      }
    }
    if (same) {
      unconflicted.set(key, eventId);
    } else {
      conflicted.set(key, valuesFor(key, stateSets));
    }
  }
  // Keys the first set lacks are conflicted by definition.
  for (const other of rest) {
    for (const key of other.keys()) {
      if (!first.has(key) && !conflicted.has(key)) conflicted.set(key, valuesFor(key, stateSets));
    }
  }
  return { unconflicted, conflicted };
}

/**
 * rooms/v1.md "State resolution": a conflict is two states holding *different* event IDs
 * for one key; a key that only some states hold is not a conflict, and joins R.
 */
export function splitConflictedStateV1(stateSets: readonly StateMap[]): SplitState {
  const unconflicted = new Map<StateKey, string>();
  const conflicted = new Map<StateKey, Set<string>>();
  for (const stateSet of stateSets) {
    for (const [key, eventId] of stateSet) {
      const seen = conflicted.get(key);
      if (seen !== undefined) {
        seen.add(eventId);
        continue;
      }
      const agreed = unconflicted.get(key);
      if (agreed === undefined) {
        unconflicted.set(key, eventId);
      } else if (agreed !== eventId) {
        unconflicted.delete(key);
        conflicted.set(key, new Set([agreed, eventId]));
      }
    }
  }
  return { unconflicted, conflicted };
}

function valuesFor(key: StateKey, stateSets: readonly StateMap[]): Set<string> {
  const values = new Set<string>();
  for (const stateSet of stateSets) {
    const eventId = stateSet.get(key);
    if (eventId !== undefined) values.add(eventId);
  }
  return values;
}
