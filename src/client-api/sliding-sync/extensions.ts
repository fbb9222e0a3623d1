// The extensions of simplified sliding sync (MSC4186 with MSC3885 to-device, MSC3884 e2ee,
// MSC3959 account data, MSC3960 receipts, MSC3961 typing), fed by the same stream sources
// as /sync. Each covers the rooms its `lists`/`rooms` scope names among those this response
// is about (the rooms inside list ranges and the room subscriptions).
//
// Incremental data is what changed between the previous response's positions and this
// one's. A room new to the client (sent with `initial`) gets its current receipts, typing
// and room account data; so does everything when an extension is first enabled.
// to-device has its own cursor (`since` → `next_batch`), which acknowledges (deletes)
// delivered messages, exactly like /sync's.

import { invalidParam } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { AccountDataEntry, PushRulesSource, SyncSources } from '../sync/sources.ts';
import { streamPosition, type SyncPosition } from '../sync/sync-token.ts';
import type { ExtensionScope, Extensions } from './request.ts';

const PUSH_RULES_TYPE = 'm.push_rules';

export interface ExtensionInput {
  readonly userId: string;
  readonly deviceId: string | undefined;
  readonly request: Extensions;
  /** Stream positions of the previous response (already reset where a source restarted); undefined: none. */
  readonly from: SyncPosition | undefined;
  readonly to: SyncPosition;
  /** Extensions whose initial data the connection already has. */
  readonly started: ReadonlySet<string>;
  /** The rooms in each list's ranges, by list name. */
  readonly listRooms: ReadonlyMap<string, readonly string[]>;
  /** Subscribed rooms the user may see. */
  readonly subscribed: readonly string[];
  /** Rooms sent with `initial` in this response. */
  readonly initialRooms: ReadonlySet<string>;
  /** Rooms the user is joined to now. */
  readonly joined: ReadonlySet<string>;
}

export interface ExtensionOutput {
  readonly json: JsonObject;
  /** Something the client did not have (key counts alone are not news). */
  readonly hasData: boolean;
  readonly started: ReadonlySet<string>;
}

export async function buildExtensions(sources: SyncSources, pushRules: PushRulesSource | undefined, input: ExtensionInput): Promise<ExtensionOutput> {
  const { request } = input;
  const json: JsonObject = {};
  let hasData = false;
  const started = new Set<string>();

  if (request.toDevice !== undefined && sources.toDevice !== undefined) {
    const source = sources.toDevice;
    const current = streamPosition(input.to, source.streamKey);
    let since = 0;
    if (request.toDevice.since !== undefined) {
      if (!/^\d{1,15}$/.test(request.toDevice.since)) throw invalidParam('extensions.to_device.since is not a to-device token');
      since = Number(request.toDevice.since);
      if (since > current) since = 0;
    }
    const batch = await source.forSync(input.userId, input.deviceId, since, current);
    json['to_device'] = { next_batch: String(batch.upTo), events: batch.events };
    hasData ||= batch.events.length > 0;
  }

  if (request.e2ee !== undefined && sources.deviceLists !== undefined) {
    const source = sources.deviceLists;
    const e2ee: JsonObject = {};
    const changes = await source.changes(input.userId, input.from, input.to);
    if (changes.changed.length > 0 || changes.left.length > 0) {
      e2ee['device_lists'] = { changed: changes.changed, left: changes.left };
      hasData = true;
    }
    if (input.deviceId !== undefined) {
      const counts = await source.counts(input.userId, input.deviceId);
      e2ee['device_one_time_keys_count'] = counts.oneTimeKeyCounts;
      e2ee['device_unused_fallback_key_types'] = counts.unusedFallbackKeyTypes;
    }
    json['e2ee'] = e2ee;
  }

  if (request.accountData !== undefined && sources.accountData !== undefined) {
    const source = sources.accountData;
    const first = !input.started.has('account_data');
    started.add('account_data');
    const to = streamPosition(input.to, source.streamKey);
    const from = first || input.from === undefined ? 0 : streamPosition(input.from, source.streamKey);
    const rooms = roomsInScope(input, request.accountData);
    const out: JsonObject = {};
    const changes = from === 0 || from < to ? await source.accountDataSince(input.userId, from, to) : undefined;
    const global = changes === undefined ? [] : await withPushRules(pushRules, input.userId, from === 0, changes.global);
    if (global.length > 0) out['global'] = global.map(entryJson);
    const initialRooms = [...rooms].filter((r) => input.initialRooms.has(r));
    const all = from !== 0 && initialRooms.length > 0 ? await source.accountDataSince(input.userId, 0, to) : changes;
    const byRoom: JsonObject = {};
    for (const roomId of rooms) {
      const entries = (input.initialRooms.has(roomId) ? all : changes)?.rooms.get(roomId) ?? [];
      if (entries.length > 0) byRoom[roomId] = entries.map(entryJson);
    }
    if (Object.keys(byRoom).length > 0) out['rooms'] = byRoom;
    if (Object.keys(out).length > 0) {
      json['account_data'] = out;
      hasData = true;
    }
  }

  if (request.receipts !== undefined && sources.receipts !== undefined) {
    const source = sources.receipts;
    const first = !input.started.has('receipts');
    started.add('receipts');
    const to = streamPosition(input.to, source.streamKey);
    const from = first || input.from === undefined ? 0 : streamPosition(input.from, source.streamKey);
    const rooms = [...roomsInScope(input, request.receipts)].filter((r) => input.joined.has(r));
    const fresh = rooms.filter((r) => from === 0 || input.initialRooms.has(r));
    const known = rooms.filter((r) => !fresh.includes(r));
    const records = [
      ...(fresh.length > 0 ? await source.receiptsSince(fresh, 0, to, input.userId) : []),
      ...(known.length > 0 && from < to ? await source.receiptsSince(known, from, to, input.userId) : []),
    ];
    const byRoom: Record<string, JsonObject> = {};
    for (const r of records) {
      const content = (byRoom[r.roomId] ??= {});
      const byType = (content[r.eventId] ??= {}) as JsonObject;
      const byUser = (byType[r.receiptType] ??= {}) as JsonObject;
      byUser[r.userId] = r.threadId === undefined ? { ts: r.ts } : { ts: r.ts, thread_id: r.threadId };
    }
    const out: JsonObject = {};
    for (const [roomId, content] of Object.entries(byRoom)) out[roomId] = { type: 'm.receipt', content };
    if (Object.keys(out).length > 0) {
      json['receipts'] = { rooms: out };
      hasData = true;
    }
  }

  if (request.typing !== undefined && sources.typing !== undefined) {
    const source = sources.typing;
    const first = !input.started.has('typing');
    started.add('typing');
    const from = first || input.from === undefined ? undefined : streamPosition(input.from, source.streamKey);
    const changed = from === undefined ? undefined : source.roomsChangedSince(from);
    const out: JsonObject = {};
    for (const roomId of roomsInScope(input, request.typing)) {
      if (!input.joined.has(roomId)) continue;
      const users = source.typingUsers(roomId);
      const fresh = changed === undefined || input.initialRooms.has(roomId);
      // A room new to the client: only who types now; a known room: every change, also to nobody.
      if (fresh ? users.length > 0 : changed.has(roomId)) out[roomId] = { type: 'm.typing', content: { user_ids: [...users] } };
    }
    if (Object.keys(out).length > 0) {
      json['typing'] = { rooms: out };
      hasData = true;
    }
  }

  return { json, hasData, started };
}

function roomsInScope(input: ExtensionInput, scope: ExtensionScope): Set<string> {
  const rooms = new Set<string>();
  for (const [name, roomIds] of input.listRooms) {
    if (scope.lists.includes('*') || scope.lists.includes(name)) for (const roomId of roomIds) rooms.add(roomId);
  }
  for (const roomId of input.subscribed) {
    if (scope.rooms.includes('*') || scope.rooms.includes(roomId)) rooms.add(roomId);
  }
  return rooms;
}

/** `m.push_rules` comes from the push rules themselves (§ "Push Rules: Events"), as /sync serves it. */
async function withPushRules(pushRules: PushRulesSource | undefined, userId: string, initial: boolean, global: readonly AccountDataEntry[]): Promise<AccountDataEntry[]> {
  const others = global.filter((entry) => entry.type !== PUSH_RULES_TYPE);
  if (pushRules === undefined) return [...global];
  if (!initial && others.length === global.length) return others;
  return [...others, { type: PUSH_RULES_TYPE, content: await pushRules.accountDataContent(userId) }];
}

function entryJson(entry: AccountDataEntry): JsonObject {
  return { type: entry.type, content: entry.content };
}
