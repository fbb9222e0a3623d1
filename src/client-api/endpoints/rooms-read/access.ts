// Who may read a room, and up to where (client-server § "Room History Visibility": "After a
// user has left a room, they may see any events which they were allowed to see before they
// left the room, but no events received after they left"; GET /state and /members: "If the
// user has left the room then the state is taken from the state of the room when they left").
// Per-event visibility is decided by ClientReadQueries.visibility; this only picks the window.

import { forbidden } from '../../../http/matrix-error.ts';
import { getField } from '../../../rooms/json.ts';
import { historyVisibilityOf } from '../../../rooms/visibility.ts';
import type { ClientReadQueries, MembershipStep } from '../../../roomserver/queries-client.ts';

export interface TimelineAccess {
  readonly history: readonly MembershipStep[];
  /** The highest stream position the user may read; undefined: up to now. */
  readonly upTo: number | undefined;
}

export type StateAccess =
  | { readonly kind: 'current'; readonly history: readonly MembershipStep[] }
  /** The user left (or was kicked or banned) after being joined: the state after that event. */
  | { readonly kind: 'departed'; readonly history: readonly MembershipStep[]; readonly eventId: string; readonly position: number };

async function worldReadableNow(queries: ClientReadQueries, roomId: string): Promise<boolean> {
  const event = await queries.roomserver.stateEvent(roomId, 'm.room.history_visibility', '');
  return event !== undefined && historyVisibilityOf(getField(event.json, 'content')) === 'world_readable';
}

/**
 * The window of the timeline (/messages, /context, /event) the user may page through: joined
 * or invited users up to now, departed users up to the event that ended their membership,
 * anyone up to now in a room that is world_readable now. 403 for users who never were
 * joined or invited to a room that is not world_readable (and for rooms this server does
 * not know, which look the same).
 */
export async function timelineAccess(queries: ClientReadQueries, roomId: string, userId: string): Promise<TimelineAccess> {
  const history = await queries.membershipHistory(roomId, userId);
  const current = history.at(-1);
  if (current?.membership === 'join' || current?.membership === 'invite') return { history, upTo: undefined };
  if (await worldReadableNow(queries, roomId)) return { history, upTo: undefined };
  const wasMember = history.some((s) => s.membership === 'join' || s.membership === 'invite');
  if (current !== undefined && wasMember && current.streamOrdering !== null) {
    return { history, upTo: current.streamOrdering };
  }
  throw forbidden('You are not allowed to read this room');
}

/**
 * Which state of the room the user may read (/state, /members): the current state when
 * joined, or when the room is world_readable and the user never joined; the state when they
 * left for a user who was joined and is not any more. 403 otherwise.
 */
export async function stateAccess(queries: ClientReadQueries, roomId: string, userId: string): Promise<StateAccess> {
  const history = await queries.membershipHistory(roomId, userId);
  const current = history.at(-1);
  if (current?.membership === 'join') return { kind: 'current', history };
  const wasJoined = history.some((s) => s.membership === 'join');
  if (current !== undefined && wasJoined && current.streamOrdering !== null) {
    return { kind: 'departed', history, eventId: current.eventId, position: current.streamOrdering };
  }
  if (await worldReadableNow(queries, roomId)) return { kind: 'current', history };
  throw forbidden('You are not a member of this room');
}
