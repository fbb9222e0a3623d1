// Push rules as the spec defines them (client-server § "Push Notifications" › "Push Rules";
// OpenAPI definitions/push_rule.yaml, push_condition.yaml, push_ruleset.yaml).

import type { JsonObject, JsonValue } from '../json.ts';

/** The kinds, in the order they are checked (§ "Push Rules": override first, underride last). */
export const PUSH_RULE_KINDS = ['override', 'content', 'room', 'sender', 'underride'] as const;
export type PushRuleKind = (typeof PUSH_RULE_KINDS)[number];

export function isPushRuleKind(value: string): value is PushRuleKind {
  return (PUSH_RULE_KINDS as readonly string[]).includes(value);
}

/**
 * A condition as stored and served. Kept as the JSON object the client sent: unknown kinds
 * and extra keys survive a round trip, and an unrecognised condition simply never matches.
 */
export type PushCondition = JsonObject;

/** An action: `"notify"` or `{set_tweak, value?}`; others pass through untouched. */
export type PushAction = string | JsonObject;

export interface PushRule {
  readonly rule_id: string;
  readonly default: boolean;
  readonly enabled: boolean;
  readonly actions: readonly PushAction[];
  /** override and underride rules only. */
  readonly conditions?: readonly PushCondition[];
  /** content rules only. */
  readonly pattern?: string;
}

export type PushRuleset = { readonly [K in PushRuleKind]: readonly PushRule[] };

/** What a rule needs to know about the room and the user it is evaluated for. */
export interface PushContext {
  /** The user whose rules these are. */
  readonly userId: string;
  /** The user's display name in the room (`contains_display_name`); undefined when none. */
  readonly displayName: string | undefined;
  /** Joined members of the room now (`room_member_count`). */
  readonly memberCount: number;
  /** The sender's power level (`sender_notification_permission`); Infinity for v12 creators. */
  readonly senderPowerLevel: number;
  /** The level needed per notification key (`notifications` of m.room.power_levels, defaults applied). */
  readonly notificationPowerLevels: (key: string) => number;
}

export interface PushEvaluation {
  /** The matching rule's actions, historical actions (`dont_notify`, `coalesce`) stripped. */
  readonly actions: readonly PushAction[];
  readonly notify: boolean;
  readonly highlight: boolean;
  /** The `sound` tweak, when set to a string. */
  readonly sound: string | undefined;
  /** Every tweak the actions set (`highlight` without value is `true`). */
  readonly tweaks: Readonly<Record<string, JsonValue>>;
  /** The rule that matched, with its kind; undefined when none did. */
  readonly rule: { readonly kind: PushRuleKind; readonly ruleId: string } | undefined;
}
