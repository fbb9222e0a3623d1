// Which lifetime applies to a room's events, as Synapse's message retention decides it
// (docs/message_retention_policies.md): the room's `m.room.retention` state event
// (`min_lifetime`, `max_lifetime`, both in milliseconds) or, without one, the server's
// default policy; the room's `max_lifetime` is then clamped to the server's allowed range.
// `m.room.retention` is not in the Matrix spec (MSC1763); malformed values are ignored,
// as Synapse ignores them.

import type { RetentionConfig } from '../../config/types.ts';
import { getField, isJsonObject } from '../../rooms/json.ts';

export interface RetentionPolicy {
  readonly minLifetime: number | null;
  readonly maxLifetime: number | null;
}

/** The policy an `m.room.retention` event's JSON gives, or undefined when there is none. */
export function policyOfStateEvent(json: string | null): RetentionPolicy | undefined {
  if (json === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  const content = isJsonObject(parsed) ? getField(parsed, 'content') : undefined;
  if (!isJsonObject(content)) return undefined;
  return { minLifetime: lifetime(getField(content, 'min_lifetime')), maxLifetime: lifetime(getField(content, 'max_lifetime')) };
}

function lifetime(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** The room's policy after the server's default and bounds. */
export function effectivePolicy(room: RetentionPolicy | undefined, config: RetentionConfig): RetentionPolicy {
  const base = room ?? { minLifetime: config.default_policy.min_lifetime, maxLifetime: config.default_policy.max_lifetime };
  let max = base.maxLifetime;
  if (max === null) max = config.allowed_lifetime_max;
  else {
    if (config.allowed_lifetime_min !== null && max < config.allowed_lifetime_min) max = config.allowed_lifetime_min;
    if (config.allowed_lifetime_max !== null && max > config.allowed_lifetime_max) max = config.allowed_lifetime_max;
  }
  return { minLifetime: base.minLifetime, maxLifetime: max };
}

/**
 * Events sent before this instant may be purged; undefined: nothing may. An event is kept
 * for at least `min_lifetime` even when `max_lifetime` is shorter.
 */
export function purgeCutoff(policy: RetentionPolicy, now: number): number | undefined {
  if (policy.maxLifetime === null) return undefined;
  return now - Math.max(policy.maxLifetime, policy.minLifetime ?? 0);
}
