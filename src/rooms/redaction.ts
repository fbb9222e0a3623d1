// The redaction algorithm (content/rooms/fragments/v1-redactions.md, v6-redactions.md,
// v8.md § "Redactions", v9-redactions.md, v11-redactions.md), one function for every room
// version, driven by the `rules.redaction` flags of the room version table.
//
// Redaction decides what event signatures and reference hashes (event IDs) cover, so it
// must match other servers byte for byte: it strips `unsigned` too (it is not in any keep
// list). Adding `unsigned.redacted_because` for clients is the client formatter's job.

import { getField, isJsonObject } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';
import type { RedactionRules, RoomVersionRules } from './room-versions.ts';

/** Top-level keys every version keeps. */
const KEPT_TOP_LEVEL = [
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'auth_events',
  'origin_server_ts',
] as const;

/** Kept in v1–v10 only (v11-redactions.md drops them). */
const KEPT_TOP_LEVEL_BEFORE_V11 = ['origin', 'membership', 'prev_state'] as const;

const POWER_LEVELS_KEYS = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];

/** The top-level keys kept by `redactEvent` under `rules`. */
export function keptTopLevelKeys(rules: RedactionRules): readonly string[] {
  return rules.keepOriginMembershipPrevState ? [...KEPT_TOP_LEVEL, ...KEPT_TOP_LEVEL_BEFORE_V11] : KEPT_TOP_LEVEL;
}

/**
 * The `content` keys kept for an event of `type`; `'all'` keeps everything (v11+ create).
 * Special cases that are not plain key lists (v11 `third_party_invite.signed`) are handled
 * in `redactContent`.
 */
export function keptContentKeys(type: string, rules: RedactionRules): readonly string[] | 'all' {
  switch (type) {
    case 'm.room.member':
      return rules.keepMemberJoinAuthorisedVia ? ['membership', 'join_authorised_via_users_server'] : ['membership'];
    case 'm.room.create':
      return rules.keepAllCreateContent ? 'all' : ['creator'];
    case 'm.room.join_rules':
      return rules.keepJoinRulesAllow ? ['join_rule', 'allow'] : ['join_rule'];
    case 'm.room.power_levels':
      return rules.keepPowerLevelsInvite ? [...POWER_LEVELS_KEYS, 'invite'] : POWER_LEVELS_KEYS;
    case 'm.room.history_visibility':
      return ['history_visibility'];
    case 'm.room.aliases':
      return rules.keepAliasesAliases ? ['aliases'] : [];
    case 'm.room.redaction':
      return rules.keepRedactionRedacts ? ['redacts'] : [];
    default:
      return [];
  }
}

function copyKeys(source: JsonObject, keys: readonly string[], target: JsonObject): void {
  for (const key of keys) {
    const value = getField(source, key);
    if (value !== undefined) target[key] = value;
  }
}

/** The redacted `content` of an event of `type` (content that is not an object becomes `{}`). */
export function redactContent(type: JsonValue | undefined, content: JsonValue | undefined, rules: RedactionRules): JsonObject {
  if (!isJsonObject(content) || typeof type !== 'string') return {};
  const kept = keptContentKeys(type, rules);
  if (kept === 'all') return { ...content };
  const result: JsonObject = {};
  copyKeys(content, kept, result);
  if (type === 'm.room.member' && rules.keepMemberThirdPartyInviteSigned) {
    // v11: "it allows the `signed` key of the `third_party_invite` key".
    const invite = getField(content, 'third_party_invite');
    const signed = isJsonObject(invite) ? getField(invite, 'signed') : undefined;
    if (signed !== undefined) result['third_party_invite'] = { signed };
  }
  return result;
}

/**
 * The event as the room version's redaction algorithm leaves it. Returns a new top-level
 * object; kept nested values are shared with the input, which must be treated as immutable.
 */
export function redactEvent(event: JsonObject, rules: RoomVersionRules): JsonObject {
  const result: JsonObject = {};
  copyKeys(event, keptTopLevelKeys(rules.redaction), result);
  result['content'] = redactContent(getField(event, 'type'), getField(event, 'content'), rules.redaction);
  return result;
}
