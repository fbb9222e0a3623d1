// What POST /rooms/{roomId}/upgrade writes, worked out from the old room's state before
// anything is written (client-server § "Room Upgrades", "Server behaviour"). Pure: the
// upgrader (./room-upgrader.ts) reads the state, creates the room from this plan in one
// roomserver transaction, then moves aliases and tombstones the old room.
//
// The new room gets, after its create event and the upgrader's join:
//   1. the old power levels with the upgrader raised to whatever the state below needs;
//   2. the spec's recommended transferable state (join rules, history visibility, guest
//      access, name, topic, avatar, encryption, server ACL), the canonical alias, and a
//      space's children, as Synapse copies them;
//   3. the old room's bans (a ban is about the person, not the room version);
//   4. the old power levels again, as they were (when step 1 had to change them).
// Target v12+: creators hold infinite power and may not be listed in `users`, so they are
// removed from it and nothing needs raising.

import { badJson } from '../../../http/matrix-error.ts';
import { parseUserId } from '../../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../../rooms/json.ts';
import type { RoomVersionRules } from '../../../rooms/room-versions.ts';
import type { StateEventInput } from '../../../roomserver/index.ts';

/** The recommended transferable state of the spec's list, in the order it is copied. */
export const TRANSFERRED_STATE_TYPES: readonly string[] = [
  'm.room.join_rules',
  'm.room.history_visibility',
  'm.room.guest_access',
  'm.room.name',
  'm.room.topic',
  'm.room.avatar',
  'm.room.encryption',
  'm.room.server_acl',
  'm.room.canonical_alias',
];

export interface OldRoomState {
  readonly rules: RoomVersionRules;
  readonly createContent: JsonObject;
  /** The old room's latest event, for `predecessor.event_id`. */
  readonly lastEventId: string | undefined;
  readonly powerLevels: JsonObject | undefined;
  /** Current content per type for TRANSFERRED_STATE_TYPES (state key ''). */
  readonly transferred: ReadonlyMap<string, JsonObject>;
  /** `m.space.child` state keys and contents (copied only when the room is a space). */
  readonly spaceChildren: ReadonlyArray<readonly [string, JsonObject]>;
  readonly bannedUsers: readonly string[];
}

export interface UpgradeRequest {
  readonly oldRoomId: string;
  readonly upgrader: string;
  readonly newRules: RoomVersionRules;
  readonly additionalCreators: readonly string[] | undefined;
}

export interface UpgradePlan {
  readonly createContent: JsonObject;
  readonly initialState: StateEventInput[];
}

const LEVEL_KEYS = ['ban', 'events_default', 'invite', 'kick', 'redact', 'state_default', 'users_default'] as const;
const LEVEL_MAPS = ['events', 'users', 'notifications'] as const;

/** Synapse's and the spec's defaults (m.room.power_levels) for keys absent from the content. */
const DEFAULT_LEVELS: Readonly<Record<(typeof LEVEL_KEYS)[number], number>> = {
  ban: 50,
  events_default: 0,
  invite: 0,
  kick: 50,
  redact: 50,
  state_default: 50,
  users_default: 0,
};

export function planUpgrade(old: OldRoomState, request: UpgradeRequest): UpgradePlan {
  const { newRules, upgrader } = request;
  const createContent: JsonObject = {
    predecessor: { room_id: request.oldRoomId, ...(old.lastEventId === undefined ? {} : { event_id: old.lastEventId }) },
  };
  const type = old.createContent['type'];
  if (typeof type === 'string') createContent['type'] = type;
  // A room kept off federation stays off it (Synapse carries `m.federate: false` over too).
  if (old.createContent['m.federate'] === false) createContent['m.federate'] = false;
  const creators = new Set<string>([upgrader]);
  if (newRules.auth.additionalCreators && request.additionalCreators !== undefined) {
    for (const userId of request.additionalCreators) {
      if (parseUserId(userId, { historical: true }) === undefined) throw badJson(`additional_creators: ${JSON.stringify(userId)} is not a user ID`);
      if (userId !== upgrader) creators.add(userId);
    }
    const additional = [...creators].filter((u) => u !== upgrader);
    if (additional.length > 0) createContent['additional_creators'] = additional;
  }

  const finalLevels = normalisePowerLevels(old.powerLevels ?? {});
  const users = levelMapOf(finalLevels, 'users');
  if (newRules.auth.privilegeCreators) {
    for (const creator of creators) delete users[creator];
  } else if (old.rules.auth.privilegeCreators && users[upgrader] === undefined) {
    // A v12 creator held infinite power without being listed; in an older version the
    // upgrader stays the room's administrator.
    users[upgrader] = 100;
  }
  finalLevels['users'] = users;

  const state: StateEventInput[] = [];
  const raised = newRules.auth.privilegeCreators ? undefined : raiseUpgrader(finalLevels, upgrader);
  state.push({ type: 'm.room.power_levels', stateKey: '', content: raised ?? finalLevels });
  for (const stateType of TRANSFERRED_STATE_TYPES) {
    const content = old.transferred.get(stateType);
    if (content !== undefined) state.push({ type: stateType, stateKey: '', content });
  }
  if (type === 'm.space') {
    for (const [stateKey, content] of old.spaceChildren) state.push({ type: 'm.space.child', stateKey, content });
  }
  for (const userId of old.bannedUsers) {
    if (!creators.has(userId)) state.push({ type: 'm.room.member', stateKey: userId, content: { membership: 'ban' } });
  }
  if (raised !== undefined) state.push({ type: 'm.room.power_levels', stateKey: '', content: finalLevels });
  return { createContent, initialState: state };
}

/**
 * The old room's power levels, restricted so that ordinary members can no longer talk or
 * invite (spec step 6): `events_default` and `invite` raised to the greater of 50 and
 * `users_default + 1`. undefined when they already are.
 */
export function restrictedOldPowerLevels(powerLevels: JsonObject | undefined): JsonObject | undefined {
  const content = normalisePowerLevels(powerLevels ?? {});
  const usersDefault = levelOf(content, 'users_default');
  const restricted = Math.max(50, usersDefault + 1);
  let changed = false;
  for (const key of ['events_default', 'invite'] as const) {
    if (levelOf(content, key) < restricted) {
      content[key] = restricted;
      changed = true;
    }
  }
  return changed ? content : undefined;
}

/**
 * A copy with every level an integer: room versions before 10 allowed numeric strings
 * ("50"), which v10+ refuse, and a room upgraded from one must still be creatable.
 * Unparseable values are dropped (they count as the default, as the auth rules read them).
 */
export function normalisePowerLevels(content: JsonObject): JsonObject {
  const copy: JsonObject = { ...content };
  for (const key of LEVEL_KEYS) {
    if (key in copy) {
      const level = toLevel(copy[key]);
      if (level === undefined) delete copy[key];
      else copy[key] = level;
    }
  }
  for (const key of LEVEL_MAPS) {
    const map = getField(copy, key);
    if (map === undefined) continue;
    const cleaned: JsonObject = {};
    if (isJsonObject(map)) {
      for (const [name, value] of Object.entries(map)) {
        const level = toLevel(value);
        if (level !== undefined) cleaned[name] = level;
      }
    }
    copy[key] = cleaned;
  }
  return copy;
}

/**
 * The levels with the upgrader raised to the highest level any of the copied state needs
 * (Synapse: max of state_default, ban and every event level); undefined when they already
 * hold it.
 */
function raiseUpgrader(levels: JsonObject, upgrader: string): JsonObject | undefined {
  const events = levelMapOf(levels, 'events');
  const needed = Math.max(
    levelOf(levels, 'state_default'),
    levelOf(levels, 'ban'),
    ...Object.values(events).map((v) => (typeof v === 'number' ? v : 0)),
  );
  const users = levelMapOf(levels, 'users');
  const current = typeof users[upgrader] === 'number' ? (users[upgrader] as number) : levelOf(levels, 'users_default');
  if (current >= needed) return undefined;
  return { ...levels, users: { ...users, [upgrader]: needed } };
}

function levelOf(content: JsonObject, key: (typeof LEVEL_KEYS)[number]): number {
  const value = content[key];
  return typeof value === 'number' ? value : DEFAULT_LEVELS[key];
}

function levelMapOf(content: JsonObject, key: string): JsonObject {
  const map = getField(content, key);
  return isJsonObject(map) ? { ...map } : {};
}

function toLevel(value: JsonValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^[+-]?[0-9]{1,15}$/.test(value.trim())) return Number.parseInt(value.trim(), 10);
  return undefined;
}
