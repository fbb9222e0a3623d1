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
import type { TimelineRow } from '../../storage/sync-repository.ts';
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

interface Scan {
  readonly notifications: number;
  readonly highlights: number;
  /** Events looked at, the user's own that ended the scan included. */
  readonly examined: number;
  /** Ended at the user's own event (older events do not count). */
  readonly stopped: boolean;
}

interface CachedScan extends Scan {
  readonly readPoint: number;
  readonly upTo: number;
  /** What the evaluation depended on besides the room's state: rules and display name. */
  readonly fingerprint: string;
}

/**
 * The last count per (user, room), so that a sync that comes back every few events does not
 * evaluate the push rules on up to UNREAD_SCAN_LIMIT events each time (a user who never
 * sends read receipts). The next count scans only the newer events and adds them up, which
 * gives the full scan's answer as long as nothing else the evaluation read changed: the read
 * point, the rules and display name (compared), and the room's state or an event's
 * redaction, which arrive as state or redaction events among the newer ones (then it scans
 * everything again).
 */
export class UnreadCache {
  readonly #entries = new Map<string, CachedScan>();
  readonly #capacity: number;

  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }

  get(userId: string, roomId: string): CachedScan | undefined {
    return this.#entries.get(`${userId}\u0000${roomId}`);
  }

  set(userId: string, roomId: string, scan: CachedScan): void {
    const key = `${userId}\u0000${roomId}`;
    this.#entries.delete(key);
    this.#entries.set(key, scan);
    if (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
  }
}

export async function unreadCounts(repo: SyncRepository, query: UnreadQuery, cache?: UnreadCache): Promise<UnreadCounts> {
  const fingerprint = cache === undefined ? '' : `${query.displayName ?? ''}\u0000${JSON.stringify(query.ruleset)}`;
  const previous = cache?.get(query.userId, query.roomId);
  let scan: Scan | undefined;
  if (previous !== undefined && previous.readPoint === query.readPoint && previous.fingerprint === fingerprint && previous.upTo <= query.upTo) {
    scan = await incrementalScan(repo, query, previous);
  }
  scan ??= await evaluate(query, await repo.recentEvents(query.roomId, query.readPoint, query.upTo, UNREAD_SCAN_LIMIT));
  cache?.set(query.userId, query.roomId, { ...scan, readPoint: query.readPoint, upTo: query.upTo, fingerprint });
  return { notification_count: scan.notifications, highlight_count: scan.highlights };
}

/** The events after `previous.upTo` added to its counts; undefined when only a full scan will do. */
async function incrementalScan(repo: SyncRepository, query: UnreadQuery, previous: CachedScan): Promise<Scan | undefined> {
  if (previous.upTo === query.upTo) return previous;
  const newer = await repo.recentEvents(query.roomId, previous.upTo, query.upTo, UNREAD_SCAN_LIMIT);
  // A state event may change the member count, power levels or display name the older
  // events were evaluated with; a redaction may hide one of them. (A false match in a
  // message body only costs a full scan.)
  if (newer.some((row) => row.type === 'm.room.redaction' || row.json.includes('"state_key"'))) return undefined;
  const scan = await evaluate(query, newer);
  if (scan.stopped || newer.length >= UNREAD_SCAN_LIMIT) return scan;
  // The full scan would go on into the older events, as far as the limit allows.
  if (previous.examined > UNREAD_SCAN_LIMIT - newer.length) return undefined;
  if (!previous.stopped && previous.examined >= UNREAD_SCAN_LIMIT) return undefined;
  return {
    notifications: scan.notifications + previous.notifications,
    highlights: scan.highlights + previous.highlights,
    examined: scan.examined + previous.examined,
    stopped: previous.stopped,
  };
}

/** Newest first, as the full scan: stops at the user's own event. */
async function evaluate(query: UnreadQuery, events: readonly TimelineRow[]): Promise<Scan> {
  let notifications = 0;
  let highlights = 0;
  let examined = 0;
  let facts: RoomPushFacts | undefined;
  for (const event of events) {
    examined++;
    if (event.sender === query.userId) return { notifications, highlights, examined, stopped: true };
    if (event.redacted) continue;
    const json = parse(event.json);
    if (json === undefined) continue;
    facts ??= await query.facts();
    const result = evaluatePushRules(query.ruleset, json, pushContext(facts, query.userId, event.sender, query.displayName));
    if (!result.notify) continue;
    notifications++;
    if (result.highlight) highlights++;
  }
  return { notifications, highlights, examined, stopped: false };
}

function parse(json: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(json);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
