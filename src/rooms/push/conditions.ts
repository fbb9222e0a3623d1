// Push rule conditions (client-server § "Push Rules" › "Conditions"). Every condition takes
// the event as the federation-format JSON (type, content, sender, state_key, room_id, ...).
// A condition with missing or mistyped parameters, or of a kind not defined here, does not
// match ("Unrecognised conditions MUST NOT match any events").

import { getField, isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import { valueAtPath } from './dotted-path.ts';
import { globMatchesValue, globMatchesWords } from './glob.ts';
import type { PushCondition, PushContext } from './types.ts';

/** `event_property_is` / `_contains` compare only these (canonical JSON's integer range). */
function isComparable(value: JsonValue | undefined): value is string | number | boolean | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  return typeof value === 'number' && Number.isSafeInteger(value);
}

export function conditionMatches(condition: PushCondition, event: JsonObject, ctx: PushContext): boolean {
  switch (getField(condition, 'kind')) {
    case 'event_match':
      return eventMatch(condition, event);
    case 'event_property_is':
      return eventPropertyIs(condition, event);
    case 'event_property_contains':
      return eventPropertyContains(condition, event);
    case 'contains_display_name':
      return containsDisplayName(event, ctx);
    case 'room_member_count':
      return roomMemberCount(condition, ctx);
    case 'sender_notification_permission':
      return senderNotificationPermission(condition, ctx);
    default:
      return false;
  }
}

/** `event_match`: a glob over a string property; `content.body` by word boundaries. */
function eventMatch(condition: PushCondition, event: JsonObject): boolean {
  const key = getField(condition, 'key');
  const pattern = getField(condition, 'pattern');
  if (typeof key !== 'string' || typeof pattern !== 'string') return false;
  const value = valueAtPath(event, key);
  if (typeof value !== 'string') return false;
  return key === 'content.body' ? globMatchesWords(pattern, value) : globMatchesValue(pattern, value);
}

function eventPropertyIs(condition: PushCondition, event: JsonObject): boolean {
  const key = getField(condition, 'key');
  const expected = getField(condition, 'value');
  if (typeof key !== 'string' || !isComparable(expected)) return false;
  const value = valueAtPath(event, key);
  return isComparable(value) && value === expected;
}

function eventPropertyContains(condition: PushCondition, event: JsonObject): boolean {
  const key = getField(condition, 'key');
  const expected = getField(condition, 'value');
  if (typeof key !== 'string' || !isComparable(expected)) return false;
  const value = valueAtPath(event, key);
  return Array.isArray(value) && value.some((item) => isComparable(item) && item === expected);
}

/** Deprecated since v1.17 but still a defined condition: the display name in `content.body`. */
function containsDisplayName(event: JsonObject, ctx: PushContext): boolean {
  if (ctx.displayName === undefined || ctx.displayName === '') return false;
  const content = getField(event, 'content');
  const body = isJsonObject(content) ? getField(content, 'body') : undefined;
  if (typeof body !== 'string') return false;
  // The name is matched literally (a display name of `*` must not match every message),
  // case-insensitively and at word boundaries, like a content rule's pattern.
  return containsWordLiteral(body, ctx.displayName);
}

function containsWordLiteral(text: string, word: string): boolean {
  const lowerText = text.toLowerCase();
  const lowerWord = word.toLowerCase();
  const isWord = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);
  for (let at = lowerText.indexOf(lowerWord); at >= 0; at = lowerText.indexOf(lowerWord, at + 1)) {
    if (!isWord(lowerText[at - 1]) && !isWord(lowerText[at + lowerWord.length])) return true;
  }
  return false;
}

const MEMBER_COUNT = /^(==|<=|>=|<|>)?([0-9]+)$/;

/** `room_member_count`: `is` is a decimal integer with an optional `==`, `<`, `>`, `<=`, `>=`. */
function roomMemberCount(condition: PushCondition, ctx: PushContext): boolean {
  const is = getField(condition, 'is');
  if (typeof is !== 'string') return false;
  const match = MEMBER_COUNT.exec(is);
  if (match === null) return false;
  const bound = Number(match[2]);
  if (!Number.isSafeInteger(bound)) return false;
  const count = ctx.memberCount;
  switch (match[1] ?? '==') {
    case '==':
      return count === bound;
    case '<':
      return count < bound;
    case '>':
      return count > bound;
    case '<=':
      return count <= bound;
    case '>=':
      return count >= bound;
    default:
      return false;
  }
}

/** `sender_notification_permission`: the sender's level reaches `notifications[key]`. */
function senderNotificationPermission(condition: PushCondition, ctx: PushContext): boolean {
  const key = getField(condition, 'key');
  if (typeof key !== 'string') return false;
  return ctx.senderPowerLevel >= ctx.notificationPowerLevels(key);
}
