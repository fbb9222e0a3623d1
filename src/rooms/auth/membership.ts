// The `m.room.member` rule (v1–v5 rule 5, v6–v11 rule 4, v12 rule 5) and the membership
// reads the other rules share.

import type { EventView } from '../event-view.ts';
import { getField, isJsonObject } from '../json.ts';
import type { JsonObject } from '../json.ts';
import type { RoomVersionRules } from '../room-versions.ts';
import { roomCreator } from './creators.ts';
import { serverNameOf } from './identifiers.ts';
import type { PowerLevels } from './power-levels.ts';
import { ALLOW, deny } from './result.ts';
import { joinRule as joinRuleNumber, memberRule } from './rule-numbers.ts';
import type { AuthContext, AuthResult } from './types.ts';

type StateLookup = AuthContext['state'];

/** `content.membership` of the user's current member event, when it is a string. */
export function membershipOf(state: StateLookup, userId: string): string | undefined {
  const member = state('m.room.member', userId);
  if (member === undefined) return undefined;
  const membership = getField(member.content, 'membership');
  return typeof membership === 'string' ? membership : undefined;
}

/**
 * The room's join rule. With no `m.room.join_rules` event (or no `join_rule` in it) the
 * spec is silent; like Synapse, treat the room as invite-only.
 */
export function currentJoinRule(state: StateLookup): string | undefined {
  const event = state('m.room.join_rules', '');
  if (event === undefined) return 'invite';
  const rule = getField(event.content, 'join_rule');
  if (rule === undefined) return 'invite';
  return typeof rule === 'string' ? rule : undefined;
}

interface MemberInput {
  readonly rules: RoomVersionRules;
  readonly ctx: AuthContext;
  readonly event: EventView;
  readonly create: EventView;
  readonly powerLevels: PowerLevels;
}

export function authorizeMember(
  rules: RoomVersionRules,
  ctx: AuthContext,
  event: EventView,
  create: EventView,
  powerLevels: PowerLevels,
): AuthResult {
  // .1
  const membership = getField(event.content, 'membership');
  if (event.stateKey === undefined || membership === undefined) {
    return deny(memberRule(rules, 'shape'), 'a member event needs a state_key and content.membership');
  }
  const input: MemberInput = { rules, ctx, event, create, powerLevels };

  // .2 (v8+) A join authorised by another server must carry that server's signature.
  if (rules.auth.restrictedJoinRule) {
    const authoriser = getField(event.content, 'join_authorised_via_users_server');
    if (authoriser !== undefined) {
      const server = typeof authoriser === 'string' ? serverNameOf(authoriser) : undefined;
      if (server === undefined || !ctx.isSignedBy(event, server)) {
        return deny(
          memberRule(rules, 'authorisedVia'),
          'the event is not signed by the server of join_authorised_via_users_server',
        );
      }
    }
  }

  switch (membership) {
    case 'join':
      return authorizeJoin(input, event.stateKey);
    case 'invite':
      return authorizeInvite(input, event.stateKey);
    case 'leave':
      return authorizeLeave(input, event.stateKey);
    case 'ban':
      return authorizeBan(input, event.stateKey);
    case 'knock':
      if (rules.auth.knocking) return authorizeKnock(input, event.stateKey);
      break;
  }
  return deny(memberRule(rules, 'unknown'), `unknown membership ${JSON.stringify(membership)}`);
}

function authorizeJoin({ rules, ctx, event, create, powerLevels }: MemberInput, target: string): AuthResult {
  const n = (name: Parameters<typeof joinRuleNumber>[1]): string => joinRuleNumber(rules, name);

  // .1 The creator's own first join, right after the create event.
  if (
    event.prevEvents.length === 1 &&
    event.prevEvents[0] === create.eventId &&
    target === roomCreator(rules, create)
  ) {
    return ALLOW;
  }
  // .2
  if (event.sender !== target) return deny(n('selfOnly'), 'a user can only join as themselves');
  const current = membershipOf(ctx.state, event.sender);
  // .3
  if (current === 'ban') return deny(n('banned'), 'the sender is banned');

  const joinRule = currentJoinRule(ctx.state);
  const alreadyInvitedOrJoined = current === 'invite' || current === 'join';
  // .4 (v7+ also `knock`)
  if (joinRule === 'invite' || (rules.auth.knocking && joinRule === 'knock')) {
    return alreadyInvitedOrJoined
      ? ALLOW
      : deny(n('inviteRule'), `the join rule is ${joinRule} and the sender is not invited`);
  }
  // .5 (v8+ `restricted`, v10+ `knock_restricted`)
  if (
    (rules.auth.restrictedJoinRule && joinRule === 'restricted') ||
    (rules.auth.knockRestrictedJoinRule && joinRule === 'knock_restricted')
  ) {
    // .5.1
    if (alreadyInvitedOrJoined) return ALLOW;
    // .5.2
    const authoriser = getField(event.content, 'join_authorised_via_users_server');
    if (
      typeof authoriser !== 'string' ||
      membershipOf(ctx.state, authoriser) !== 'join' ||
      powerLevels.userLevel(authoriser) < powerLevels.invite
    ) {
      return deny(
        `${n('restricted')}.2`,
        'join_authorised_via_users_server is not a joined member able to invite',
      );
    }
    // .5.3
    return ALLOW;
  }
  // .6 (v8+; .5 before)
  if (joinRule === 'public') return ALLOW;
  // .7
  return deny(n('reject'), `the join rule ${JSON.stringify(joinRule ?? null)} does not admit the sender`);
}

function authorizeInvite({ rules, ctx, event, powerLevels }: MemberInput, target: string): AuthResult {
  const rule = memberRule(rules, 'invite');
  const targetMembership = membershipOf(ctx.state, target);

  // .1 Invites for a third-party identifier, proven by the identity server's signature.
  if (getField(event.content, 'third_party_invite') !== undefined) {
    return authorizeThirdPartyInvite(`${rule}.1`, ctx, event, target, targetMembership);
  }
  // .2
  if (membershipOf(ctx.state, event.sender) !== 'join') {
    return deny(`${rule}.2`, 'the sender is not joined to the room');
  }
  // .3
  if (targetMembership === 'join' || targetMembership === 'ban') {
    return deny(`${rule}.3`, `the target's membership is ${targetMembership}`);
  }
  // .4
  if (powerLevels.userLevel(event.sender) >= powerLevels.invite) return ALLOW;
  // .5
  return deny(`${rule}.5`, "the sender's power level is below the invite level");
}

function authorizeThirdPartyInvite(
  rule: string,
  ctx: AuthContext,
  event: EventView,
  target: string,
  targetMembership: string | undefined,
): AuthResult {
  // .1
  if (targetMembership === 'ban') return deny(`${rule}.1`, 'the target is banned');
  // .2
  const invite = getField(event.content, 'third_party_invite');
  const signed = isJsonObject(invite) ? getField(invite, 'signed') : undefined;
  if (!isJsonObject(signed)) {
    return deny(`${rule}.2`, 'content.third_party_invite has no signed object');
  }
  // .3
  const mxid = getField(signed, 'mxid');
  const token = getField(signed, 'token');
  if (mxid === undefined || token === undefined) {
    return deny(`${rule}.3`, 'third_party_invite.signed lacks mxid or token');
  }
  // .4
  if (mxid !== target) return deny(`${rule}.4`, 'signed.mxid does not match the state_key');
  // .5
  const thirdPartyInvite = typeof token === 'string' ? ctx.state('m.room.third_party_invite', token) : undefined;
  if (thirdPartyInvite === undefined) {
    return deny(`${rule}.5`, 'no m.room.third_party_invite in the room for signed.token');
  }
  // .6
  if (event.sender !== thirdPartyInvite.sender) {
    return deny(`${rule}.6`, 'the sender did not send the m.room.third_party_invite');
  }
  // .7
  for (const publicKey of thirdPartyInvitePublicKeys(thirdPartyInvite.content)) {
    if (ctx.verifyThirdPartySignature(signed, publicKey)) return ALLOW;
  }
  // .8
  return deny(`${rule}.8`, 'no signature in signed matches a public key of the invite');
}

/** .7.1 `public_key` and .7.2 each `public_keys[].public_key`, the well-formed ones. */
export function thirdPartyInvitePublicKeys(content: JsonObject): string[] {
  const keys: string[] = [];
  const single = getField(content, 'public_key');
  if (typeof single === 'string') keys.push(single);
  const list = getField(content, 'public_keys');
  if (Array.isArray(list)) {
    for (const entry of list) {
      const key = isJsonObject(entry) ? getField(entry, 'public_key') : undefined;
      if (typeof key === 'string') keys.push(key);
    }
  }
  return keys;
}

function authorizeLeave({ rules, ctx, event, powerLevels }: MemberInput, target: string): AuthResult {
  const rule = memberRule(rules, 'leave');
  const senderMembership = membershipOf(ctx.state, event.sender);
  // .1 Leaving (or rejecting an invite, or rescinding a knock in v7+) oneself.
  if (event.sender === target) {
    const mayLeave =
      senderMembership === 'invite' ||
      senderMembership === 'join' ||
      (rules.auth.knocking && senderMembership === 'knock');
    return mayLeave ? ALLOW : deny(`${rule}.1`, `cannot leave from membership ${senderMembership ?? 'none'}`);
  }
  // .2
  if (senderMembership !== 'join') return deny(`${rule}.2`, 'the sender is not joined to the room');
  const senderLevel = powerLevels.userLevel(event.sender);
  // .3 Unbanning needs the ban level.
  if (membershipOf(ctx.state, target) === 'ban' && senderLevel < powerLevels.ban) {
    return deny(`${rule}.3`, "the target is banned and the sender's power level is below the ban level");
  }
  // .4
  if (senderLevel >= powerLevels.kick && powerLevels.userLevel(target) < senderLevel) return ALLOW;
  // .5
  return deny(`${rule}.5`, "the sender's power level is below the kick level or not above the target's");
}

function authorizeBan({ rules, ctx, event, powerLevels }: MemberInput, target: string): AuthResult {
  const rule = memberRule(rules, 'ban');
  // .1
  if (membershipOf(ctx.state, event.sender) !== 'join') {
    return deny(`${rule}.1`, 'the sender is not joined to the room');
  }
  // .2
  const senderLevel = powerLevels.userLevel(event.sender);
  if (senderLevel >= powerLevels.ban && powerLevels.userLevel(target) < senderLevel) return ALLOW;
  // .3
  return deny(`${rule}.3`, "the sender's power level is below the ban level or not above the target's");
}

function authorizeKnock({ rules, ctx, event }: MemberInput, target: string): AuthResult {
  const rule = memberRule(rules, 'knock');
  // .1 (v10+ also `knock_restricted`)
  const joinRule = currentJoinRule(ctx.state);
  if (!(joinRule === 'knock' || (rules.auth.knockRestrictedJoinRule && joinRule === 'knock_restricted'))) {
    return deny(`${rule}.1`, `the join rule ${JSON.stringify(joinRule ?? null)} does not allow knocking`);
  }
  // .2
  if (event.sender !== target) return deny(`${rule}.2`, 'a user can only knock as themselves');
  // .3
  const current = membershipOf(ctx.state, event.sender);
  if (current !== 'ban' && current !== 'invite' && current !== 'join') return ALLOW;
  // .4
  return deny(`${rule}.4`, `cannot knock from membership ${current}`);
}
