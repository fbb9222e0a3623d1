// State resolution for room version 1 (content/rooms/v1.md "State resolution").
// Known to reset state in some forks (the spec's warning); kept exactly for v1 rooms.

import { createHash } from 'node:crypto';
import { splitStateKey, stateKeyOf, type EventView, type StateKey, type StateMap } from '../event-view.ts';
import { isAllowed, type AuthChecker } from './auth-checker.ts';
import type { EventCache } from './event-cache.ts';
import type { Pacer } from './pacer.ts';
import { splitConflictedStateV1 } from './split-conflicted.ts';

/** The types resolved first, in order, because they decide what else is allowed. */
const AUTH_TYPES_IN_ORDER = ['m.room.power_levels', 'm.room.join_rules', 'm.room.member'] as const;

export async function resolveV1(
  stateSets: readonly StateMap[],
  checker: AuthChecker,
  events: EventCache,
  pacer: Pacer,
): Promise<Map<StateKey, string>> {
  const { unconflicted, conflicted } = splitConflictedStateV1(stateSets);
  const resolved = new Map(unconflicted);
  if (conflicted.size === 0) return resolved;

  const sortKeys = new Map<string, { depth: number; sha1: string }>();
  const loadConflicted = (ids: ReadonlySet<string>): EventView[] => {
    const loaded: EventView[] = [];
    for (const id of ids) {
      const event = events.get(id);
      // Events we cannot see, or that are not state for this key, cannot be resolved to.
      if (event === undefined || event.stateKey === undefined) continue;
      if (!sortKeys.has(id)) {
        sortKeys.set(id, {
          depth: Number.isFinite(event.depth) ? event.depth : 0,
          sha1: createHash('sha1').update(id, 'utf8').digest('hex'),
        });
      }
      loaded.push(event);
    }
    return loaded;
  };
  // Ascending depth, then descending sha1(event_id).
  const authOrder = (x: EventView, y: EventView): number => {
    const kx = sortKeys.get(x.eventId)!;
    const ky = sortKeys.get(y.eventId)!;
    if (kx.depth !== ky.depth) return kx.depth - ky.depth;
    return kx.sha1 < ky.sha1 ? 1 : kx.sha1 > ky.sha1 ? -1 : 0;
  };

  const done = new Set<StateKey>();
  for (const authType of AUTH_TYPES_IN_ORDER) {
    // Each pass checks against R as it stood when the pass began (plus the key's own
    // progress), so the answer does not depend on the order keys are visited in.
    const base = new Map(resolved);
    for (const [key, ids] of conflicted) {
      if (splitStateKey(key)[0] !== authType) continue;
      done.add(key);
      const candidates = loadConflicted(ids).sort(authOrder);
      const [first, ...rest] = candidates;
      if (first === undefined) continue;
      let current = first.eventId;
      for (const event of rest) {
        if (!isAllowed(checker, event, stateReader(base, events, key, current))) break;
        current = event.eventId;
      }
      resolved.set(key, current);
      const turn = pacer.step();
      if (turn) await turn;
    }
  }

  // Other conflicts: the highest depth, lowest sha1(event_id) event that passes auth in R.
  const base = new Map(resolved);
  const reader = stateReader(base, events);
  for (const [key, ids] of conflicted) {
    if (done.has(key)) continue;
    const candidates = loadConflicted(ids).sort((x, y) => authOrder(y, x));
    const winner = candidates.find((event) => isAllowed(checker, event, reader)) ?? candidates.at(-1);
    // The spec is silent when none passes; like Synapse, keep the lowest one.
    if (winner !== undefined) resolved.set(key, winner.eventId);
    const turn = pacer.step();
    if (turn) await turn;
  }
  return resolved;
}

/** Reads `state`, with `overrideKey` (when given) mapped to `overrideId`. */
function stateReader(
  state: ReadonlyMap<StateKey, string>,
  events: EventCache,
  overrideKey?: StateKey,
  overrideId?: string,
): (type: string, stateKey: string) => EventView | undefined {
  return (type, stateKey) => {
    const key = stateKeyOf(type, stateKey);
    const eventId = overrideKey !== undefined && key === overrideKey ? overrideId : state.get(key);
    return eventId === undefined ? undefined : events.get(eventId);
  };
}
