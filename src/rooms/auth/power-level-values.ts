// Reading one power level value, per room version:
// - v1–v9 accept integers written as strings (fragments/v1-stringy-power-levels.md);
// - v1–v5 also accept floats, truncated (fragments/v1-floaty-power-levels.md); from v6 on,
//   canonical JSON has already rejected floats, so a fraction here is malformed;
// - v10+ accept integers only (content/rooms/v10.md).

import type { JsonValue } from '../json.ts';
import type { RoomVersionRules } from '../room-versions.ts';

/** What a power-level field holds: nothing, something unreadable, or a level. */
export type LevelField =
  | { readonly kind: 'absent' }
  | { readonly kind: 'invalid'; readonly raw: JsonValue }
  | { readonly kind: 'level'; readonly value: number };

const ABSENT: LevelField = { kind: 'absent' };

// Decimal digits with one optional sign; surrounding whitespace is trimmed first.
const STRINGY_INTEGER = /^[+-]?[0-9]+$/;

/** The level `value` stands for in this room version, or `undefined` when malformed. */
export function parseLevel(rules: RoomVersionRules, value: JsonValue): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    if (Number.isInteger(value)) return value;
    return rules.strictCanonicalJson ? undefined : Math.trunc(value);
  }
  if (typeof value === 'string' && !rules.auth.integerPowerLevels) {
    const trimmed = value.trim();
    if (!STRINGY_INTEGER.test(trimmed)) return undefined;
    const parsed = Number(trimmed);
    // Beyond 2^53 a string no longer names one integer; treat it as malformed.
    return Number.isSafeInteger(parsed) ? parsed : undefined;
  }
  return undefined;
}

/** v10+ "is an integer": a JSON number with no fraction, never a string. */
export function isStrictInteger(value: JsonValue | undefined): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

export function readLevelField(rules: RoomVersionRules, value: JsonValue | undefined): LevelField {
  if (value === undefined) return ABSENT;
  const level = parseLevel(rules, value);
  return level === undefined ? { kind: 'invalid', raw: value } : { kind: 'level', value: level };
}

/** Whether a field was added, changed or removed between two power-levels events. */
export function levelFieldChanged(before: LevelField, after: LevelField): boolean {
  if (before.kind === 'absent' && after.kind === 'absent') return false;
  if (before.kind === 'level' && after.kind === 'level') return before.value !== after.value;
  if (before.kind === 'invalid' && after.kind === 'invalid') {
    return JSON.stringify(before.raw) !== JSON.stringify(after.raw);
  }
  return true;
}
