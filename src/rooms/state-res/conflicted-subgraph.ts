// v12 (content/rooms/v12.md "Conflicted state subgraph"): the events on `auth_events`
// paths between two events of the conflicted state set, endpoints included. Those are
// the events the iterative auth checks need replayed once they start from an empty map.

import type { EventCache } from './event-cache.ts';
import type { Pacer } from './pacer.ts';

export async function conflictedStateSubgraph(
  conflictedEventIds: ReadonlySet<string>,
  events: EventCache,
  pacer: Pacer,
): Promise<Set<string>> {
  // Every event reachable from a conflicted event (they are the starts of the paths)...
  const reachable = new Set<string>();
  const stack: string[] = [];
  for (const eventId of conflictedEventIds) {
    if (events.get(eventId) !== undefined) stack.push(eventId);
  }
  for (let eventId = stack.pop(); eventId !== undefined; eventId = stack.pop()) {
    if (reachable.has(eventId)) continue;
    reachable.add(eventId);
    for (const authId of events.get(eventId)?.authEvents ?? []) {
      if (!reachable.has(authId) && events.get(authId) !== undefined) stack.push(authId);
    }
    const turn = pacer.step();
    if (turn) await turn;
  }

  // ...that itself reaches a conflicted event (the ends), found by a post-order walk.
  const reachesConflicted = new Map<string, boolean>();
  // Guards against `auth_events` cycles, which a malicious peer could forge.
  const onPath = new Set<string>();
  for (const start of reachable) {
    if (reachesConflicted.has(start)) continue;
    onPath.add(start);
    const frames: Array<{ id: string; next: number }> = [{ id: start, next: 0 }];
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const authEvents = events.get(frame.id)?.authEvents ?? [];
      if (frame.next < authEvents.length) {
        const authId = authEvents[frame.next]!;
        frame.next += 1;
        if (reachable.has(authId) && !reachesConflicted.has(authId) && !onPath.has(authId)) {
          onPath.add(authId);
          frames.push({ id: authId, next: 0 });
        }
        continue;
      }
      frames.pop();
      onPath.delete(frame.id);
      let reaches = conflictedEventIds.has(frame.id);
      for (const authId of authEvents) {
        if (reaches) break;
        reaches = reachesConflicted.get(authId) === true;
      }
      reachesConflicted.set(frame.id, reaches);
    }
    const turn = pacer.step();
    if (turn) await turn;
  }

  const subgraph = new Set<string>();
  for (const [eventId, reaches] of reachesConflicted) {
    if (reaches) subgraph.add(eventId);
  }
  return subgraph;
}
