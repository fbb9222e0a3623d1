// The `m.room.power_levels` rule (v1–v5 rule 10, v6–v11 rule 9, v12 rule 10): what the
// new content may hold, and which changes the sender's own level permits.

import type { EventView } from '../event-view.ts';
import { getField, isJsonObject } from '../json.ts';
import type { JsonObject } from '../json.ts';
import type { RoomVersionRules } from '../room-versions.ts';
import { isValidUserId } from './identifiers.ts';
import { isStrictInteger, levelFieldChanged, parseLevel, readLevelField } from './power-level-values.ts';
import type { LevelField } from './power-level-values.ts';
import { NAMED_LEVELS, levelMap } from './power-levels.ts';
import type { PowerLevels } from './power-levels.ts';
import { ALLOW, deny } from './result.ts';
import { powerLevelsRule } from './rule-numbers.ts';
import type { AuthResult } from './types.ts';

export function authorizePowerLevels(
  rules: RoomVersionRules,
  event: EventView,
  previous: EventView | undefined,
  current: PowerLevels,
): AuthResult {
  const n = (name: Parameters<typeof powerLevelsRule>[1]): string => powerLevelsRule(rules, name);
  const content = event.content;

  if (rules.auth.integerPowerLevels) {
    // .1 (v10+)
    for (const name of NAMED_LEVELS) {
      const value = getField(content, name);
      if (value !== undefined && !isStrictInteger(value)) {
        return deny(n('namedIntegers'), `${name} is not an integer`);
      }
    }
    // .2 (v10+)
    for (const name of ['events', 'notifications']) {
      const value = getField(content, name);
      if (value !== undefined && !(isJsonObject(value) && Object.values(value).every(isStrictInteger))) {
        return deny(n('mapsIntegers'), `${name} is not an object of integers`);
      }
    }
  }

  // .1 (v1–v9) / .3 (v10+): `users` maps valid user IDs to integers (v1–v9: or integer strings).
  const users = getField(content, 'users');
  if (users !== undefined) {
    if (!isJsonObject(users)) return deny(n('users'), 'users is not an object');
    for (const [userId, level] of Object.entries(users)) {
      if (!isValidUserId(userId)) return deny(n('users'), `users names an invalid user ID ${userId}`);
      const valid = rules.auth.integerPowerLevels ? isStrictInteger(level) : parseLevel(rules, level) !== undefined;
      if (!valid) return deny(n('users'), `the level of ${userId} is not an integer`);
    }
  }

  // .4 (v12) Creators hold infinite power and cannot be listed.
  if (rules.auth.privilegeCreators && isJsonObject(users)) {
    for (const creator of current.privilegedCreators) {
      if (getField(users, creator) !== undefined) {
        return deny(n('noCreators'), `users names the room creator ${creator}`);
      }
    }
  }

  // .2 (v1–v9) / .4 (v10–v11) / .5 (v12)
  if (previous === undefined) return ALLOW;

  const senderLevel = current.userLevel(event.sender);
  const before = previous.content;
  const field = (object: JsonObject, key: string): LevelField => readLevelField(rules, getField(object, key));

  // .3 / .5 / .6: the named levels. An unreadable new value cannot be shown to be within
  // the sender's level, so it fails the rule.
  for (const name of NAMED_LEVELS) {
    const old = field(before, name);
    const next = field(content, name);
    if (!levelFieldChanged(old, next)) continue;
    if (old.kind === 'level' && old.value > senderLevel) {
      return deny(`${n('named')}.1`, `the current ${name} is above the sender's level`);
    }
    if (next.kind === 'invalid' || (next.kind === 'level' && next.value > senderLevel)) {
      return deny(`${n('named')}.2`, `the new ${name} is above the sender's level`);
    }
  }

  // `events`, and from v6 `notifications`.
  const maps = rules.auth.limitNotificationsPowerLevels ? ['events', 'notifications'] : ['events'];
  const changedEntries = (key: string): Array<[string, LevelField, LevelField]> => {
    const old = levelMap(before, key);
    const next = levelMap(content, key);
    const names = new Set([...Object.keys(old), ...Object.keys(next)]);
    const changed: Array<[string, LevelField, LevelField]> = [];
    for (const name of names) {
      const o = field(old, name);
      const x = field(next, name);
      if (levelFieldChanged(o, x)) changed.push([name, o, x]);
    }
    return changed;
  };

  // .4 / .6 / .7: entries changed or removed: the current value.
  for (const key of maps) {
    for (const [name, old] of changedEntries(key)) {
      if (old.kind === 'level' && old.value > senderLevel) {
        return deny(`${n('mapsOld')}.1`, `the current ${key}.${name} is above the sender's level`);
      }
    }
  }
  // .5 / .7 / .8: entries added or changed: the new value.
  for (const key of maps) {
    for (const [name, , next] of changedEntries(key)) {
      if (next.kind === 'invalid' || (next.kind === 'level' && next.value > senderLevel)) {
        return deny(`${n('mapsNew')}.1`, `the new ${key}.${name} is above the sender's level`);
      }
    }
  }

  const userChanges = changedEntries('users');
  // .6 / .8 / .9: users changed or removed, other than the sender: not at or above the sender.
  for (const [userId, old] of userChanges) {
    if (userId !== event.sender && old.kind === 'level' && old.value >= senderLevel) {
      return deny(`${n('usersOld')}.1`, `the current level of ${userId} is not below the sender's`);
    }
  }
  // .7 / .9 / .10: users added or changed: not above the sender.
  for (const [userId, , next] of userChanges) {
    if (next.kind === 'invalid' || (next.kind === 'level' && next.value > senderLevel)) {
      return deny(`${n('usersNew')}.1`, `the new level of ${userId} is above the sender's`);
    }
  }
  // .8 / .10 / .11
  return ALLOW;
}
