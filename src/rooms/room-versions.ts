// The room version rule table (spec: content/rooms/v1.md … v12.md).
// Each version is the previous one with flags changed, so a difference between two
// versions is one line here, never an override hidden in a class chain.

export type EventIdFormat =
  /** `$opaque:server`, chosen by the sending server (v1, v2). */
  | 'v1'
  /** `$` + standard unpadded base64 of the reference hash (v3). */
  | 'v3'
  /** `$` + URL-safe unpadded base64 of the reference hash (v4+). */
  | 'v4';

export type StateResolutionAlgorithm =
  /** content/rooms/v1.md "State resolution" */
  | 'v1'
  /** fragments/v2-state-res.md (v2 … v11) */
  | 'v2'
  /** v12: iterative auth checks start from the unconflicted state, conflicted state subgraph. */
  | 'v2.1';

export interface RedactionRules {
  /** `m.room.aliases` keeps `aliases` (v1–v5; removed in v6). */
  keepAliasesAliases: boolean;
  /** `m.room.join_rules` keeps `allow` (v8+). */
  keepJoinRulesAllow: boolean;
  /** `m.room.member` keeps `join_authorised_via_users_server` (v9+). */
  keepMemberJoinAuthorisedVia: boolean;
  /** `m.room.member` keeps `third_party_invite.signed` (v11+). */
  keepMemberThirdPartyInviteSigned: boolean;
  /** Top-level `origin`, `membership`, `prev_state` are kept (v1–v10). */
  keepOriginMembershipPrevState: boolean;
  /** `m.room.create` keeps all of its content (v11+); before, only `creator`. */
  keepAllCreateContent: boolean;
  /** `m.room.power_levels` keeps `invite` (v11+). */
  keepPowerLevelsInvite: boolean;
  /** `m.room.redaction` keeps `content.redacts` (v11+). */
  keepRedactionRedacts: boolean;
}

export interface AuthorizationRules {
  /** v1–v5: `m.room.aliases` events are authorised by the sender's domain alone. */
  specialCaseAliases: boolean;
  /** v1–v2: auth rule for `m.room.redaction` (same domain or redact level) is in the auth rules. */
  specialCaseRedaction: boolean;
  /** v6+: `notifications` power levels are checked when power levels change. */
  limitNotificationsPowerLevels: boolean;
  /** v7+: `knock` membership and join rule. */
  knocking: boolean;
  /** v8+: `restricted` join rule with `join_authorised_via_users_server`. */
  restrictedJoinRule: boolean;
  /** v10+: `knock_restricted` join rule. */
  knockRestrictedJoinRule: boolean;
  /** v10+: power level values must be integers (no numeric strings). */
  integerPowerLevels: boolean;
  /** v11+: the creator is the create event's `sender` (before: `content.creator`). */
  useCreateSender: boolean;
  /** v12: creators (create sender + `additional_creators`) have infinite power. */
  privilegeCreators: boolean;
  /** v12: `content.additional_creators` on the create event. */
  additionalCreators: boolean;
}

export interface EventFormatRules {
  eventIdFormat: EventIdFormat;
  /** v1–v2: events carry an `event_id` field. */
  requireEventIdField: boolean;
  /** v1–v11: the create event has a `room_id`; v12: the room ID is derived from it. */
  createHasRoomId: boolean;
  /** v1–v11: the create event is selected into `auth_events`; v12: it must not be. */
  createInAuthEvents: boolean;
}

export interface SignatureRules {
  /** v1–v2: the server named in the event ID must also have signed the event. */
  checkEventIdServer: boolean;
  /** v5+: signing keys must be valid at `origin_server_ts` (`valid_until_ts`). */
  enforceKeyValidity: boolean;
}

export interface RoomVersionRules {
  id: string;
  /** Stable versions may be offered as defaults; all of 1–12 are stable. */
  stable: boolean;
  format: EventFormatRules;
  /** v6+: reject events that are not canonical JSON (floats, out-of-range ints). */
  strictCanonicalJson: boolean;
  stateResolution: StateResolutionAlgorithm;
  auth: AuthorizationRules;
  redaction: RedactionRules;
  signatures: SignatureRules;
}

const v1: RoomVersionRules = {
  id: '1',
  stable: true,
  format: {
    eventIdFormat: 'v1',
    requireEventIdField: true,
    createHasRoomId: true,
    createInAuthEvents: true,
  },
  strictCanonicalJson: false,
  stateResolution: 'v1',
  auth: {
    specialCaseAliases: true,
    specialCaseRedaction: true,
    limitNotificationsPowerLevels: false,
    knocking: false,
    restrictedJoinRule: false,
    knockRestrictedJoinRule: false,
    integerPowerLevels: false,
    useCreateSender: false,
    privilegeCreators: false,
    additionalCreators: false,
  },
  redaction: {
    keepAliasesAliases: true,
    keepJoinRulesAllow: false,
    keepMemberJoinAuthorisedVia: false,
    keepMemberThirdPartyInviteSigned: false,
    keepOriginMembershipPrevState: true,
    keepAllCreateContent: false,
    keepPowerLevelsInvite: false,
    keepRedactionRedacts: false,
  },
  signatures: { checkEventIdServer: true, enforceKeyValidity: false },
};

type Patch = {
  format?: Partial<EventFormatRules>;
  strictCanonicalJson?: boolean;
  stateResolution?: StateResolutionAlgorithm;
  auth?: Partial<AuthorizationRules>;
  redaction?: Partial<RedactionRules>;
  signatures?: Partial<SignatureRules>;
};

function derive(base: RoomVersionRules, id: string, patch: Patch): RoomVersionRules {
  return Object.freeze({
    ...base,
    id,
    format: Object.freeze({ ...base.format, ...patch.format }),
    strictCanonicalJson: patch.strictCanonicalJson ?? base.strictCanonicalJson,
    stateResolution: patch.stateResolution ?? base.stateResolution,
    auth: Object.freeze({ ...base.auth, ...patch.auth }),
    redaction: Object.freeze({ ...base.redaction, ...patch.redaction }),
    signatures: Object.freeze({ ...base.signatures, ...patch.signatures }),
  });
}

// content/rooms/v2.md: state resolution v2.
const v2 = derive(v1, '2', { stateResolution: 'v2' });
// v3.md: event IDs are reference hashes; redaction auth moves out of the auth rules.
const v3 = derive(v2, '3', {
  format: { eventIdFormat: 'v3', requireEventIdField: false },
  auth: { specialCaseRedaction: false },
  signatures: { checkEventIdServer: false },
});
// v4.md: URL-safe event IDs.
const v4 = derive(v3, '4', { format: { eventIdFormat: 'v4' } });
// v5.md: signing key validity periods are enforced.
const v5 = derive(v4, '5', { signatures: { enforceKeyValidity: true } });
// v6.md: strict canonical JSON, no aliases special case, notifications power levels.
const v6 = derive(v5, '6', {
  strictCanonicalJson: true,
  auth: { specialCaseAliases: false, limitNotificationsPowerLevels: true },
  redaction: { keepAliasesAliases: false },
});
// v7.md: knocking.
const v7 = derive(v6, '7', { auth: { knocking: true } });
// v8.md: restricted join rule.
const v8 = derive(v7, '8', {
  auth: { restrictedJoinRule: true },
  redaction: { keepJoinRulesAllow: true },
});
// v9.md: redaction keeps join_authorised_via_users_server.
const v9 = derive(v8, '9', { redaction: { keepMemberJoinAuthorisedVia: true } });
// v10.md: knock_restricted, integer power levels.
const v10 = derive(v9, '10', {
  auth: { knockRestrictedJoinRule: true, integerPowerLevels: true },
});
// v11.md: creator is the sender; redaction algorithm changes.
const v11 = derive(v10, '11', {
  auth: { useCreateSender: true },
  redaction: {
    keepOriginMembershipPrevState: false,
    keepAllCreateContent: true,
    keepPowerLevelsInvite: true,
    keepRedactionRedacts: true,
    keepMemberThirdPartyInviteSigned: true,
  },
});
// v12.md: room ID is the create event's hash, creators with infinite power, state res v2.1.
const v12 = derive(v11, '12', {
  format: { createHasRoomId: false, createInAuthEvents: false },
  stateResolution: 'v2.1',
  auth: { privilegeCreators: true, additionalCreators: true },
});

export const ROOM_VERSIONS: ReadonlyMap<string, RoomVersionRules> = new Map(
  [v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12].map((rules) => [rules.id, rules]),
);

/** New rooms default to version 12, as the spec advises. */
export const DEFAULT_ROOM_VERSION = '12';

export function roomVersionRules(id: string): RoomVersionRules | undefined {
  return ROOM_VERSIONS.get(id);
}

export function isSupportedRoomVersion(id: string): boolean {
  return ROOM_VERSIONS.has(id);
}
