// A typed, lenient view of the room's `m.room.power_levels` with the spec's defaults
// (data/event-schemas/schema/m.room.power_levels.yaml). An unreadable value in a
// power-levels event already in the room (possible in v1–v9, whose rules only check
// `users`, and for the room's first power-levels event) counts as absent: the default.

import type { EventView } from '../event-view.ts';
import { getField, isJsonObject } from '../json.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import type { RoomVersionRules } from '../room-versions.ts';
import { roomCreators } from './creators.ts';
import { parseLevel } from './power-level-values.ts';

export const NAMED_LEVELS = [
  'users_default',
  'events_default',
  'state_default',
  'ban',
  'redact',
  'kick',
  'invite',
] as const;
export type NamedLevel = (typeof NAMED_LEVELS)[number];

const NAMED_DEFAULTS: Readonly<Record<NamedLevel, number>> = {
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  redact: 50,
  kick: 50,
  invite: 0,
};

/** v1–v11: with no power-levels event, the creator has 100 (m.room.power_levels "users_default"). */
const CREATOR_LEVEL_WITHOUT_POWER_LEVELS = 100;
/** `notifications.room` defaults to 50; the spec names no other key, and push rules use 50. */
const NOTIFICATION_DEFAULT = 50;

export interface PowerLevels {
  readonly usersDefault: number;
  readonly eventsDefault: number;
  readonly stateDefault: number;
  readonly ban: number;
  readonly kick: number;
  readonly invite: number;
  readonly redact: number;
  /** v12 creators: `Infinity`. */
  userLevel(userId: string): number;
  /** The *required power level* to send an event of `type`. */
  eventLevel(type: string, isState: boolean): number;
  notificationLevel(key: string): number;
  /** Creators with infinite power (v12); empty before v12. */
  readonly privilegedCreators: ReadonlySet<string>;
}

/** The object at `content[key]`, or an empty one when absent or not an object. */
export function levelMap(content: JsonObject, key: string): JsonObject {
  const value = getField(content, key);
  return isJsonObject(value) ? value : {};
}

export function powerLevelsFrom(
  rules: RoomVersionRules,
  powerLevelsEvent: EventView | undefined,
  createEvent: EventView | undefined,
): PowerLevels {
  const content: JsonObject = powerLevelsEvent?.content ?? {};
  const read = (value: JsonValue | undefined): number | undefined =>
    value === undefined ? undefined : parseLevel(rules, value);
  const named = (name: NamedLevel): number => read(getField(content, name)) ?? NAMED_DEFAULTS[name];

  const creators = roomCreators(rules, createEvent);
  const privilegedCreators: ReadonlySet<string> = rules.auth.privilegeCreators ? creators : new Set();
  const users = levelMap(content, 'users');
  const events = levelMap(content, 'events');
  const notifications = levelMap(content, 'notifications');
  const usersDefault = named('users_default');
  const eventsDefault = named('events_default');
  const stateDefault = named('state_default');

  return {
    usersDefault,
    eventsDefault,
    stateDefault,
    ban: named('ban'),
    kick: named('kick'),
    invite: named('invite'),
    redact: named('redact'),
    privilegedCreators,
    userLevel(userId) {
      if (privilegedCreators.has(userId)) return Infinity;
      if (powerLevelsEvent === undefined) {
        return creators.has(userId) && !rules.auth.privilegeCreators
          ? CREATOR_LEVEL_WITHOUT_POWER_LEVELS
          : 0;
      }
      return read(getField(users, userId)) ?? usersDefault;
    },
    eventLevel(type, isState) {
      return read(getField(events, type)) ?? (isState ? stateDefault : eventsDefault);
    },
    notificationLevel(key) {
      return read(getField(notifications, key)) ?? NOTIFICATION_DEFAULT;
    },
  };
}
