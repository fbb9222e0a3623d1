// What /sync reads from the services behind its non-room streams (typing, receipts, account
// data, presence). The services live elsewhere (src/client-api/ephemeral/); each implements
// one of these interfaces and is handed to the sync service at wiring time. Every one is
// optional: without it /sync simply has no such section.
//
// Positions: each source's positions are its own (StreamSource.currentPosition). A sync
// token carries the position the client has seen; `from` below is that position (0 for an
// initial sync: "everything current") and `to` the position this response is computed up
// to. A token position above the source's current position (a restart reset an in-memory
// stream) is treated as 0, so the client gets the current data again rather than nothing.

import type { JsonObject } from '../../rooms/json.ts';
import type { PushRuleset } from '../../rooms/push/index.ts';
import type { StreamSource } from './stream-source.ts';
import type { SyncPosition } from './sync-token.ts';

/** Typing notifications (client-server § "Typing Notifications"); stream key `t`. */
export interface TypingSource extends StreamSource {
  /** The users typing in the room now. */
  typingUsers(roomId: string): readonly string[];
  /** Rooms whose typing set changed at a position in (from, current]. */
  roomsChangedSince(from: number): ReadonlySet<string>;
}

/** One receipt as /sync shows it inside an `m.receipt` event. */
export interface ReceiptRecord {
  readonly roomId: string;
  readonly eventId: string;
  /** `m.read`, `m.read.private`, ... */
  readonly receiptType: string;
  readonly userId: string;
  readonly ts: number;
  /** Unset for unthreaded receipts. */
  readonly threadId?: string;
}

/** Receipts (client-server § "Receipts"); stream key `r`. */
export interface ReceiptsSource extends StreamSource {
  /**
   * Receipts in `roomIds` whose position is in (from, to] (from = 0: every current
   * receipt). `m.read.private` receipts must be returned only when they are `forUser`'s own.
   */
  receiptsSince(roomIds: readonly string[], from: number, to: number, forUser: string): Promise<readonly ReceiptRecord[]>;
  /**
   * The event IDs `userId`'s current `m.read` and `m.read.private` receipts (unthreaded or
   * `main`) in the room point at; sync takes the later of them for unread counts.
   */
  readReceiptEvents(roomId: string, userId: string): Promise<readonly string[]>;
}

export interface AccountDataEntry {
  readonly type: string;
  readonly content: JsonObject;
}

export interface AccountDataChanges {
  readonly global: readonly AccountDataEntry[];
  readonly rooms: ReadonlyMap<string, readonly AccountDataEntry[]>;
}

/** Account data (client-server § "Client Config"); stream key `a`. */
export interface AccountDataSource extends StreamSource {
  /** `userId`'s account data written at a position in (from, to]; from = 0: all of it. */
  accountDataSince(userId: string, from: number, to: number): Promise<AccountDataChanges>;
}

/** Presence (client-server § "Presence"); stream key `p`. */
export interface PresenceSource extends StreamSource {
  /**
   * The `m.presence` events (`{type, sender, content}`) of the users among `users` whose
   * presence changed at a position in (from, to]; from = 0: their current presence.
   */
  presenceSince(users: ReadonlySet<string>, from: number, to: number): Promise<readonly JsonObject[]>;
  /**
   * `set_presence` of GET /sync: the client's presence as its syncing implies
   * (`online` by default, `unavailable`, or `offline` = leave it unchanged).
   */
  syncedPresence(userId: string, presence: 'online' | 'unavailable' | 'offline'): Promise<void>;
}

/** To-device messages (client-server § "Send-to-Device messaging"); stream key `d`. */
export interface ToDeviceSource extends StreamSource {
  /**
   * The device's messages (`{sender, type, content}`) in (from, to], after deleting those at
   * or below `from` (the client's token acknowledges them). `upTo` is the position the
   * response may claim: below `to` when more messages remain than one response carries.
   */
  forSync(userId: string, deviceId: string | undefined, from: number, to: number): Promise<{ readonly events: JsonObject[]; readonly upTo: number }>;
}

/** Device lists and key counts (client-server § "End-to-End Encryption" › "Extensions to /sync"); stream key `l`. */
export interface DeviceListsSource extends StreamSource {
  /** `device_lists` between two tokens; nothing for an initial sync (`since` undefined). */
  changes(userId: string, since: SyncPosition | undefined, to: SyncPosition): Promise<{ readonly changed: string[]; readonly left: string[] }>;
  /** `device_one_time_keys_count` and `device_unused_fallback_key_types` of the device. */
  counts(userId: string, deviceId: string): Promise<{ readonly oneTimeKeyCounts: Record<string, number>; readonly unusedFallbackKeyTypes: string[] }>;
}

/**
 * Push rules (client-server § "Push Rules"): unread counts evaluate them, and the global
 * `m.push_rules` account data event carries them (§ "Push Rules: Events").
 */
export interface PushRulesSource {
  ruleset(userId: string): Promise<PushRuleset>;
  /** The `m.push_rules` content: `{global: ruleset}`. */
  accountDataContent(userId: string): Promise<JsonObject>;
}

/** The optional sources, as the composition root hands them over. */
export interface SyncSources {
  readonly typing?: TypingSource;
  readonly receipts?: ReceiptsSource;
  readonly accountData?: AccountDataSource;
  readonly presence?: PresenceSource;
  readonly toDevice?: ToDeviceSource;
  readonly deviceLists?: DeviceListsSource;
}

/** Every present source, for the notifier and the token. */
export function presentSources(sources: SyncSources): StreamSource[] {
  return [sources.typing, sources.receipts, sources.accountData, sources.presence, sources.toDevice, sources.deviceLists].filter(
    (s): s is NonNullable<typeof s> => s !== undefined,
  );
}
