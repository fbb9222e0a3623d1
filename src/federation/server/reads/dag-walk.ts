// Walks backwards through a room's prev_events for /backfill and /get_missing_events
// (server-server § "Backfilling and retrieving missing events"). Events the asking server
// may not see under history visibility are served redacted, as Synapse does, so the
// requester still gets a connected DAG without the content it may not read.

import type { RoomEvent } from '../../../roomserver/index.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { redactEvent } from '../../../rooms/redaction.ts';
import { roomVersionRules } from '../../../rooms/room-versions.ts';
import { prevEventIdsOf, servableEvent, type ReadDeps } from './common.ts';

export interface WalkOptions {
  readonly roomId: string;
  /** Where the walk starts. */
  readonly from: readonly string[];
  /** Whether the starting events are part of the answer (backfill) or only their ancestors. */
  readonly includeStart: boolean;
  /** Events never returned nor walked through (get_missing_events' `earliest_events`). */
  readonly stopAt?: ReadonlySet<string>;
  readonly minDepth?: number;
  readonly limit: number;
}

/**
 * Deepest first (a priority queue on depth, as the spec's "sliding window" of history
 * suggests), each event once, only events of `roomId`.
 */
export async function walkBackwards(deps: ReadDeps, options: WalkOptions): Promise<RoomEvent[]> {
  const seen = new Set<string>(options.stopAt ?? []);
  const queue: RoomEvent[] = [];
  const result: RoomEvent[] = [];
  const enqueue = async (id: string): Promise<void> => {
    if (seen.has(id)) return;
    seen.add(id);
    const event = await servableEvent(deps, id);
    if (event === undefined || event.roomId !== options.roomId) return;
    if (options.minDepth !== undefined && event.depth < options.minDepth) return;
    queue.push(event);
  };
  for (const id of options.from) {
    if (options.includeStart) {
      await enqueue(id);
      continue;
    }
    seen.add(id);
    const start = await servableEvent(deps, id);
    if (start === undefined || start.roomId !== options.roomId) continue;
    for (const prev of prevEventIdsOf(start)) await enqueue(prev);
  }
  while (queue.length > 0 && result.length < options.limit) {
    queue.sort((a, b) => b.depth - a.depth || (a.eventId < b.eventId ? -1 : 1));
    const next = queue.shift();
    if (next === undefined) break;
    result.push(next);
    for (const prev of prevEventIdsOf(next)) await enqueue(prev);
  }
  return result;
}

/** The PDUs as `serverName` may have them: redacted where history visibility hides them. */
export async function asVisibleTo(deps: ReadDeps, events: readonly RoomEvent[], serverName: string): Promise<JsonObject[]> {
  const pdus: JsonObject[] = [];
  for (const event of events) {
    const rules = roomVersionRules(event.roomVersion);
    const visible = await deps.access.eventVisibleTo(event, serverName);
    pdus.push(visible || rules === undefined ? event.json : redactEvent(event.json, rules));
  }
  return pdus;
}
