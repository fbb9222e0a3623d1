// What push rule conditions need to know about a room and a user (client-server § "Push
// Rules" › "Conditions"): the joined member count, the sender's power level against the
// `notifications` levels, and the user's display name in the room.

import { isJsonObject } from '../../rooms/json.ts';
import type { PushContext, PushRuleset } from '../../rooms/push/index.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { currentPowerLevels } from '../rooms/power.ts';

export interface RoomPushFacts {
  readonly memberCount: number;
  readonly levelOf: (userId: string) => number;
  readonly notificationLevel: (key: string) => number;
}

export async function roomPushFacts(roomserver: Roomserver, roomId: string): Promise<RoomPushFacts> {
  const [members, levels] = await Promise.all([roomserver.members(roomId, 'join'), currentPowerLevels(roomserver, roomId)]);
  return {
    memberCount: members.length,
    levelOf: (userId) => levels?.userLevel(userId) ?? 0,
    notificationLevel: (key) => levels?.notificationLevel(key) ?? 50,
  };
}

export function pushContext(facts: RoomPushFacts, userId: string, sender: string, displayName: string | undefined): PushContext {
  return {
    userId,
    displayName,
    memberCount: facts.memberCount,
    senderPowerLevel: facts.levelOf(sender),
    notificationPowerLevels: facts.notificationLevel,
  };
}

/** Whether any enabled rule of the ruleset reads the display name (worth a state lookup). */
export function usesDisplayName(ruleset: PushRuleset): boolean {
  return [...ruleset.override, ...ruleset.underride].some(
    (rule) => rule.enabled && (rule.conditions ?? []).some((c) => c['kind'] === 'contains_display_name'),
  );
}

/** The user's display name in the room, from their member event. */
export async function displayNameIn(roomserver: Roomserver, roomId: string, userId: string): Promise<string | undefined> {
  const member = await roomserver.stateEvent(roomId, 'm.room.member', userId);
  const content = member?.json['content'];
  const name = isJsonObject(content) ? content['displayname'] : undefined;
  return typeof name === 'string' ? name : undefined;
}
