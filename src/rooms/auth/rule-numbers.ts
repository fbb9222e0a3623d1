// The spec numbers the authorization rules differently in each room version: v1–v5 have
// the `m.room.aliases` rule, v1–v2 the redaction rule, v12 the room ID rule, and the
// member and power-level sub-rules grow with knocking, restricted joins and integer
// power levels. Each list below is the spec's list for a version with the rules that
// version lacks left out, so a rule's number is its position, as the spec renders it.
//
// Two places where the spec's source text and its rendered page differ (Markdown
// renumbers ordered lists): v12 auth-events rule "3.5" renders as 3.4, and v12's second
// "10.10" renders as 10.11. Rejections use the rendered numbers.

import type { RoomVersionRules } from '../room-versions.ts';

type Gated<T> = T | false;

function position<T extends string>(list: readonly Gated<T>[], name: T): string {
  const present = list.filter((entry): entry is T => entry !== false);
  return String(present.indexOf(name) + 1);
}

export type TopRule =
  | 'create'
  | 'roomId'
  | 'authEvents'
  | 'federate'
  | 'aliases'
  | 'member'
  | 'senderJoined'
  | 'thirdPartyInvite'
  | 'requiredLevel'
  | 'stateKeyOwner'
  | 'powerLevels'
  | 'redaction'
  | 'allow';

export function topRule(rules: RoomVersionRules, name: TopRule): string {
  return position<TopRule>(
    [
      'create',
      !rules.format.createHasRoomId && 'roomId',
      'authEvents',
      'federate',
      rules.auth.specialCaseAliases && 'aliases',
      'member',
      'senderJoined',
      'thirdPartyInvite',
      'requiredLevel',
      'stateKeyOwner',
      'powerLevels',
      rules.auth.specialCaseRedaction && 'redaction',
      'allow',
    ],
    name,
  );
}

export type CreateRule =
  | 'prevEvents'
  | 'roomIdDomain'
  | 'noRoomId'
  | 'roomVersion'
  | 'creator'
  | 'additionalCreators'
  | 'allow';

export function createRule(rules: RoomVersionRules, name: CreateRule): string {
  const sub = position<CreateRule>(
    [
      'prevEvents',
      rules.format.createHasRoomId ? 'roomIdDomain' : 'noRoomId',
      'roomVersion',
      !rules.auth.useCreateSender && 'creator',
      rules.auth.additionalCreators && 'additionalCreators',
      'allow',
    ],
    name,
  );
  return `${topRule(rules, 'create')}.${sub}`;
}

export type AuthEventsRule = 'duplicate' | 'selection' | 'rejected' | 'missingCreate' | 'roomId';

export function authEventsRule(rules: RoomVersionRules, name: AuthEventsRule): string {
  const sub = position<AuthEventsRule>(
    [
      'duplicate',
      'selection',
      'rejected',
      rules.format.createInAuthEvents && 'missingCreate',
      'roomId',
    ],
    name,
  );
  return `${topRule(rules, 'authEvents')}.${sub}`;
}

export type MemberRule =
  | 'shape'
  | 'authorisedVia'
  | 'join'
  | 'invite'
  | 'leave'
  | 'ban'
  | 'knock'
  | 'unknown';

export function memberRule(rules: RoomVersionRules, name: MemberRule): string {
  const sub = position<MemberRule>(
    [
      'shape',
      rules.auth.restrictedJoinRule && 'authorisedVia',
      'join',
      'invite',
      'leave',
      'ban',
      rules.auth.knocking && 'knock',
      'unknown',
    ],
    name,
  );
  return `${topRule(rules, 'member')}.${sub}`;
}

export type JoinRule =
  | 'createOnly'
  | 'selfOnly'
  | 'banned'
  | 'inviteRule'
  | 'restricted'
  | 'public'
  | 'reject';

export function joinRule(rules: RoomVersionRules, name: JoinRule): string {
  const sub = position<JoinRule>(
    [
      'createOnly',
      'selfOnly',
      'banned',
      'inviteRule',
      rules.auth.restrictedJoinRule && 'restricted',
      'public',
      'reject',
    ],
    name,
  );
  return `${memberRule(rules, 'join')}.${sub}`;
}

export type PowerLevelsRule =
  | 'namedIntegers'
  | 'mapsIntegers'
  | 'users'
  | 'noCreators'
  | 'noPrevious'
  | 'named'
  | 'mapsOld'
  | 'mapsNew'
  | 'usersOld'
  | 'usersNew'
  | 'allow';

export function powerLevelsRule(rules: RoomVersionRules, name: PowerLevelsRule): string {
  const sub = position<PowerLevelsRule>(
    [
      rules.auth.integerPowerLevels && 'namedIntegers',
      rules.auth.integerPowerLevels && 'mapsIntegers',
      'users',
      rules.auth.privilegeCreators && 'noCreators',
      'noPrevious',
      'named',
      'mapsOld',
      'mapsNew',
      'usersOld',
      'usersNew',
      'allow',
    ],
    name,
  );
  return `${topRule(rules, 'powerLevels')}.${sub}`;
}
