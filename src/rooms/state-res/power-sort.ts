// Step 1 of v2-state-res.md "Algorithm": the power events of the full conflicted set,
// enlarged by the events of their auth chains that are also in the full conflicted set,
// sorted by the reverse topological power ordering.

import type { RoomVersionRules } from '../room-versions.ts';
import { lexicographicalTopologicalSort } from '../graph/topological-sort.ts';
import type { EventCache } from './event-cache.ts';
import type { Pacer } from './pacer.ts';
import { isPowerEvent } from './power-events.ts';
import { senderPowerLevel } from './sender-power.ts';
import { timestampOf } from './timestamp.ts';

export async function sortPowerEvents(
  fullConflictedSet: ReadonlySet<string>,
  rules: RoomVersionRules,
  events: EventCache,
  pacer: Pacer,
): Promise<string[]> {
  // The auth DAG restricted to the full conflicted set. Like Synapse and Ruma, the walk
  // follows auth edges between events of the set only, so that servers converge.
  const graph = new Map<string, Set<string>>();
  const stack: string[] = [];
  for (const eventId of fullConflictedSet) {
    const event = events.get(eventId);
    if (event !== undefined && isPowerEvent(event)) stack.push(eventId);
  }
  for (let eventId = stack.pop(); eventId !== undefined; eventId = stack.pop()) {
    if (graph.has(eventId)) continue;
    const edges = new Set<string>();
    graph.set(eventId, edges);
    for (const authId of events.get(eventId)?.authEvents ?? []) {
      if (!fullConflictedSet.has(authId) || events.get(authId) === undefined) continue;
      edges.add(authId);
      if (!graph.has(authId)) stack.push(authId);
    }
    const turn = pacer.step();
    if (turn) await turn;
  }

  // Each sender's level is computed once per event, not once per comparison.
  const power = new Map<string, number>();
  const ts = new Map<string, number>();
  for (const eventId of graph.keys()) {
    const event = events.get(eventId)!;
    power.set(eventId, senderPowerLevel(event, rules, events));
    ts.set(eventId, timestampOf(event));
    const turn = pacer.step();
    if (turn) await turn;
  }

  return lexicographicalTopologicalSort(graph, (x, y) => {
    const px = power.get(x)!;
    const py = power.get(y)!;
    if (px !== py) return px > py;
    const tx = ts.get(x)!;
    const ty = ts.get(y)!;
    if (tx !== ty) return tx < ty;
    return x < y;
  });
}
