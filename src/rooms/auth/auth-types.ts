// content/server-server-api.md "Auth events selection": which (type, state_key) pairs an
// event's `auth_events` may name. Also used to pick the auth events of a new local event.

import { getField, isJsonObject } from '../json.ts';
import type { JsonObject } from '../json.ts';
import type { RoomVersionRules } from '../room-versions.ts';

export interface AuthTypesInput {
  readonly type: string;
  readonly stateKey: string | undefined;
  readonly sender: string;
  readonly content: JsonObject;
}

export function authTypesForEvent(
  rules: RoomVersionRules,
  ev: AuthTypesInput,
): Array<[type: string, stateKey: string]> {
  // "The auth_events for the m.room.create event in a room is empty."
  if (ev.type === 'm.room.create') return [];

  const selected: Array<[string, string]> = [];
  const add = (type: string, stateKey: string): void => {
    if (!selected.some(([t, k]) => t === type && k === stateKey)) selected.push([type, stateKey]);
  };

  // v1–v11 select the create event; v12 must not (its room ID implies it).
  if (rules.format.createInAuthEvents) add('m.room.create', '');
  add('m.room.power_levels', '');
  add('m.room.member', ev.sender);

  if (ev.type === 'm.room.member') {
    const membership = getField(ev.content, 'membership');
    if (ev.stateKey !== undefined) add('m.room.member', ev.stateKey);
    if (membership === 'join' || membership === 'invite' || membership === 'knock') {
      add('m.room.join_rules', '');
    }
    if (membership === 'invite' && getField(ev.content, 'third_party_invite') !== undefined) {
      const token = thirdPartyInviteToken(ev.content);
      if (token !== undefined) add('m.room.third_party_invite', token);
    }
    if (membership === 'join' && rules.auth.restrictedJoinRule) {
      const authoriser = getField(ev.content, 'join_authorised_via_users_server');
      if (typeof authoriser === 'string') add('m.room.member', authoriser);
    }
  }
  return selected;
}

/** `content.third_party_invite.signed.token`, when it is a string. */
export function thirdPartyInviteToken(content: JsonObject): string | undefined {
  const invite = getField(content, 'third_party_invite');
  if (!isJsonObject(invite)) return undefined;
  const signed = getField(invite, 'signed');
  if (!isJsonObject(signed)) return undefined;
  const token = getField(signed, 'token');
  return typeof token === 'string' ? token : undefined;
}
