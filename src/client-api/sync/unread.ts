// `unread_notifications` (client-server § "Receiving notifications"): until push rules
// exist (issue 9), a notification is a message (m.room.message, m.room.encrypted) from
// someone else after the user's read point, and a highlight is one that mentions the user:
// `m.mentions.user_ids` naming them (§ "User and room mentions"), or, for events without
// `m.mentions`, a body containing their display name or localpart (the legacy
// `.m.rule.contains_display_name` / `contains_user_name` behaviour).
//
// The read point is the later of the user's read receipts and their own latest event:
// sending into a room means having read it.

import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { SyncRepository } from '../../storage/index.ts';

/** How many recent events are looked at; beyond this the counts saturate. */
export const UNREAD_SCAN_LIMIT = 1000;

const COUNTED_TYPES: ReadonlySet<string> = new Set(['m.room.message', 'm.room.encrypted']);

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
}

export async function unreadCounts(repo: SyncRepository, query: UnreadQuery): Promise<UnreadCounts> {
  const events = await repo.recentEvents(query.roomId, query.readPoint, query.upTo, UNREAD_SCAN_LIMIT);
  let notifications = 0;
  let highlights = 0;
  for (const event of events) {
    if (event.sender === query.userId) break;
    if (!COUNTED_TYPES.has(event.type) || event.redacted) continue;
    notifications++;
    if (mentionsUser(contentOf(event.json), query.userId, query.displayName)) highlights++;
  }
  return { notification_count: notifications, highlight_count: highlights };
}

export function mentionsUser(content: JsonObject, userId: string, displayName: string | undefined): boolean {
  const mentions = content['m.mentions'];
  if (isJsonObject(mentions)) {
    const ids = mentions['user_ids'];
    return Array.isArray(ids) && ids.includes(userId);
  }
  const body = content['body'];
  if (typeof body !== 'string') return false;
  const localpart = userId.slice(1, userId.indexOf(':') < 0 ? undefined : userId.indexOf(':'));
  return [displayName, localpart].some((name) => name !== undefined && name !== '' && containsWord(body, name));
}

/** Case-insensitive match of `word` in `text` at word boundaries (push rules' glob semantics). */
function containsWord(text: string, word: string): boolean {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|\\W)${escaped}(\\W|$)`, 'iu').test(text);
}

function contentOf(json: string): JsonObject {
  try {
    const parsed = JSON.parse(json) as { content?: unknown };
    return isJsonObject(parsed.content) ? parsed.content : {};
  } catch {
    return {};
  }
}
