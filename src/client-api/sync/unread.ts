// `unread_notifications` (client-server § "Receiving notifications": "Notifications are
// determined by the push rules which apply to an event"): the events after the user's read
// point that the user's push rules say notify (`notify` action), and of those the ones with
// the `highlight` tweak. The rules are evaluated here, at sync time, so the count for a new
// event is in the same /sync response as the event itself, and a rule the user changes
// applies at once.
//
// The read point is the later of the user's read receipts and their own latest event:
// sending into a room means having read it.

import { evaluatePushRules, type PushRuleset } from '../../rooms/push/index.ts';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { SyncRepository } from '../../storage/index.ts';
import { pushContext, type RoomPushFacts } from '../push/room-push-context.ts';

/** How many recent events are looked at; beyond this the counts saturate. */
export const UNREAD_SCAN_LIMIT = 1000;

export interface UnreadCounts {
  readonly notification_count: number;
  readonly highlight_count: number;
}

export interface UnreadQuery {
  readonly roomId: string;
  readonly userId: string;
  readonly displayName: string | undefined;
  /** Stream position of the read point: events above it are unread. */
  readonly readPoint: number;
  readonly upTo: number;
  /** The user's effective push rules. */
  readonly ruleset: PushRuleset;
  /** The room's member count and power levels, loaded only when there is something to count. */
  readonly facts: () => Promise<RoomPushFacts>;
}

export async function unreadCounts(repo: SyncRepository, query: UnreadQuery): Promise<UnreadCounts> {
  const events = await repo.recentEvents(query.roomId, query.readPoint, query.upTo, UNREAD_SCAN_LIMIT);
  let notifications = 0;
  let highlights = 0;
  let facts: RoomPushFacts | undefined;
  for (const event of events) {
    if (event.sender === query.userId) break;
    if (event.redacted) continue;
    const json = parse(event.json);
    if (json === undefined) continue;
    facts ??= await query.facts();
    const result = evaluatePushRules(query.ruleset, json, pushContext(facts, query.userId, event.sender, query.displayName));
    if (!result.notify) continue;
    notifications++;
    if (result.highlight) highlights++;
  }
  return { notification_count: notifications, highlight_count: highlights };
}

function parse(json: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
