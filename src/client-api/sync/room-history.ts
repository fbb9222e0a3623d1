// Room state at a stream position and history visibility for /sync timelines
// (client-server § "Room History Visibility" "Server behaviour", via the pure decision in
// src/rooms/visibility.ts). A timeline event at or after the user's current join is visible
// without looking further (their membership at it is `join`); only older events, which an
// initial sync of a newly joined room shows, need the state at each event.

import { splitStateKey, stateKeyOf, type StateMap } from '../../rooms/event-view.ts';
import { historyVisibilityOf, isEventVisible, type VisibilityPoint } from '../../rooms/visibility.ts';
import type { Roomserver, RoomEvent } from '../../roomserver/index.ts';
import type { EventLoader } from './events.ts';

/** The room state after the last timeline event at or below `position`; empty before the room. */
export async function stateAtPosition(roomserver: Pick<Roomserver, 'eventsInRange' | 'stateAt'>, roomId: string, position: number): Promise<StateMap> {
  const [last] = await roomserver.eventsInRange({ roomId, fromStream: 0, toStream: position, limit: 1, direction: 'backward' });
  if (last === undefined) return new Map();
  return (await roomserver.stateAt(last.eventId, 'after')) ?? new Map();
}

/** `state_key`s and types of a state map, as pairs. */
export function stateEntries(state: StateMap): Array<{ type: string; stateKey: string; eventId: string }> {
  return [...state].map(([key, eventId]) => {
    const [type, stateKey] = splitStateKey(key);
    return { type, stateKey, eventId };
  });
}

export interface VisibilityContext {
  readonly roomserver: Pick<Roomserver, 'stateAt'>;
  readonly loader: EventLoader;
  readonly userId: string;
  /**
   * Stream ordering at and after which the user is known to be joined (their current join
   * event), or undefined when they are not joined now.
   */
  readonly joinedFrom: number | undefined;
  /** Whether the user was joined at some point after the events checked (rule 3 "shared"). */
  readonly joinedLater: boolean;
}

/** The events (oldest first) the user may see. */
export async function visibleEvents(ctx: VisibilityContext, events: readonly RoomEvent[]): Promise<RoomEvent[]> {
  const out: RoomEvent[] = [];
  for (const event of events) {
    if (ctx.joinedFrom !== undefined && event.streamOrdering !== null && event.streamOrdering >= ctx.joinedFrom) {
      out.push(event);
    } else if (await visibleByState(ctx, event)) {
      out.push(event);
    }
  }
  return out;
}

async function visibleByState(ctx: VisibilityContext, event: RoomEvent): Promise<boolean> {
  const before = await ctx.roomserver.stateAt(event.eventId, 'before');
  if (before === undefined) return false;
  const beforePoint = await pointOf(ctx, before);
  let afterPoint = beforePoint;
  const changesPoint =
    event.type === 'm.room.history_visibility' || (event.type === 'm.room.member' && event.stateKey === ctx.userId);
  if (changesPoint) {
    const after = await ctx.roomserver.stateAt(event.eventId, 'after');
    if (after !== undefined) afterPoint = await pointOf(ctx, after);
  }
  return isEventVisible({ before: beforePoint, after: afterPoint, joinedAfterEvent: ctx.joinedLater });
}

async function pointOf(ctx: VisibilityContext, state: StateMap): Promise<VisibilityPoint> {
  const visibilityId = state.get(stateKeyOf('m.room.history_visibility', ''));
  const memberId = state.get(stateKeyOf('m.room.member', ctx.userId));
  const loaded = await ctx.loader.load([visibilityId, memberId].filter((id): id is string => id !== undefined));
  const visibility = visibilityId === undefined ? undefined : loaded.get(visibilityId)?.json['content'];
  const member = memberId === undefined ? undefined : loaded.get(memberId)?.json['content'];
  const membership = member !== null && typeof member === 'object' && !Array.isArray(member) ? member['membership'] : undefined;
  return {
    historyVisibility: historyVisibilityOf(visibility),
    membership: typeof membership === 'string' ? membership : undefined,
  };
}
