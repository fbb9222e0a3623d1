// Walks a room's timeline in stream order from a position, in either direction, keeping the
// events the user may see (history visibility) and the filter passes, until `limit` are
// found, the range ends, or a scan budget is spent (so a long stretch of hidden history
// costs a bounded amount per request; the client continues from the returned position).

import { getField } from '../../rooms/json.ts';
import type { RoomEvent } from '../../roomserver/index.ts';
import type { ClientReadQueries, EventVisibility, MembershipStep } from '../../roomserver/queries-client.ts';
import { matchesRoomEventFilter, type RoomEventFilter } from '../filters/room-event-filter.ts';

export interface PaginateQuery {
  readonly roomId: string;
  readonly userId: string;
  readonly history: readonly MembershipStep[];
  readonly direction: 'forward' | 'backward';
  /** The token position to start at (see ./token.ts for what a position means). */
  readonly from: number;
  /**
   * Where to stop: backward, events at or below this position are not returned; forward,
   * events above it are not. Absent: the start of the room, or the newest event.
   */
  readonly to: number | undefined;
  readonly limit: number;
  readonly filter: RoomEventFilter;
}

export interface PaginateResult {
  readonly events: RoomEvent[];
  /** Visibility facts of the returned events (for the formatter). */
  readonly visibility: Map<string, EventVisibility>;
  /** The position to continue from, in the same direction. */
  readonly next: number;
  /** True when the range holds no further events (the client should stop). */
  readonly exhausted: boolean;
}

/** Rows read per query: enough that a filter dropping a few events does not need a second round. */
const MIN_BATCH = 20;
/** Rows examined per request at most. */
const MAX_SCANNED = 1000;

export async function paginate(queries: ClientReadQueries, query: PaginateQuery): Promise<PaginateResult> {
  const backward = query.direction === 'backward';
  // Backfilled history has negative positions: the start of the room is below them all.
  let lower = backward ? (query.to ?? Number.MIN_SAFE_INTEGER) : query.from; // exclusive
  let upper = backward ? query.from : (query.to ?? (await queries.roomserver.latestStreamPosition())); // inclusive
  const events: RoomEvent[] = [];
  const visibility = new Map<string, EventVisibility>();
  let next = query.from;
  let scanned = 0;
  let exhausted = false;
  const batchSize = Math.max(MIN_BATCH, query.limit * 2);

  while (events.length < query.limit) {
    if (upper <= lower) {
      exhausted = true;
      break;
    }
    if (scanned >= MAX_SCANNED) break;
    const batch = await queries.roomserver.eventsInRange({
      roomId: query.roomId,
      fromStream: lower,
      toStream: upper,
      limit: batchSize,
      direction: query.direction,
    });
    scanned += batch.length;
    const facts = await queries.visibility(query.roomId, query.userId, batch, query.history);
    let consumed = 0;
    for (const event of batch) {
      if (events.length >= query.limit) break;
      consumed++;
      const position = event.streamOrdering ?? 0;
      next = backward ? position - 1 : position;
      const fact = facts.get(event.eventId);
      if (fact?.visible !== true) continue;
      const filterable = { type: event.type, sender: event.sender, roomId: event.roomId, content: getField(event.json, 'content') };
      if (!matchesRoomEventFilter(query.filter, filterable)) continue;
      events.push(event);
      visibility.set(event.eventId, fact);
    }
    if (batch.length < batchSize && consumed === batch.length) {
      exhausted = true;
      break;
    }
    if (backward) upper = next;
    else lower = next;
  }
  return { events, visibility, next, exhausted };
}
