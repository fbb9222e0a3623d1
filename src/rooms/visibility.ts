// Room history visibility as a decision (client-server § "Room History Visibility",
// "Server behaviour"): may a user see one event, given the room's `history_visibility`
// and the user's membership at that event. Pure: the caller loads the state at the
// event and whether the user joined afterwards.

import { getField, isJsonObject, type JsonValue } from './json.ts';

export type HistoryVisibility = 'world_readable' | 'shared' | 'invited' | 'joined';

const SETTINGS: ReadonlySet<string> = new Set(['world_readable', 'shared', 'invited', 'joined']);

/**
 * The setting an `m.room.history_visibility` content declares. "If no history_visibility is
 * set, or if the value is not understood, the visibility is assumed to be `shared`."
 */
export function historyVisibilityOf(content: JsonValue | undefined): HistoryVisibility {
  if (!isJsonObject(content)) return 'shared';
  const value = getField(content, 'history_visibility');
  return typeof value === 'string' && SETTINGS.has(value) ? (value as HistoryVisibility) : 'shared';
}

/** The room as it stood for one user at one point: the setting and their membership. */
export interface VisibilityPoint {
  readonly historyVisibility: HistoryVisibility;
  /** `content.membership` of the user's m.room.member event; undefined when they have none. */
  readonly membership: string | undefined;
}

export interface EventVisibilityInput {
  /** The state before the event. */
  readonly before: VisibilityPoint;
  /**
   * The state after the event. It differs from `before` only when the event is itself an
   * `m.room.history_visibility` event or the user's own `m.room.member` event.
   */
  readonly after: VisibilityPoint;
  /** Whether the user was joined to the room at any point after the event was sent (rule 3). */
  readonly joinedAfterEvent: boolean;
}

/** Steps 1–5 of "Server behaviour", against one view of the state at the event. */
export function allowedAt(point: VisibilityPoint, joinedAfterEvent: boolean): boolean {
  // 1. world_readable: allow.
  if (point.historyVisibility === 'world_readable') return true;
  // 2. The user's membership was join: allow.
  if (point.membership === 'join') return true;
  // 3. shared, and the user joined the room at any point after the event was sent: allow.
  if (point.historyVisibility === 'shared' && joinedAfterEvent) return true;
  // 4. The user's membership was invite and the setting is invited: allow.
  if (point.membership === 'invite' && point.historyVisibility === 'invited') return true;
  // 5. Otherwise, deny.
  return false;
}

/**
 * Whether the user may see the event. An `m.room.history_visibility` event is visible when
 * the setting before *or* after it allows; the user's own `m.room.member` event when their
 * membership before *or* after it allows. Every other event leaves both the setting and the
 * user's membership unchanged, so testing both sides is the same as testing one.
 */
export function isEventVisible(input: EventVisibilityInput): boolean {
  return allowedAt(input.before, input.joinedAfterEvent) || allowedAt(input.after, input.joinedAfterEvent);
}
