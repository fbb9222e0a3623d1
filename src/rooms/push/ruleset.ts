// A user's effective ruleset: the server-default rules with the user's changes to them
// (enabled, actions) and the user's own rules. Server-default rules "operate at a lower
// priority than user-defined rules, except for the `.m.rule.master` rule which has always a
// higher priority than any other rule" (§ "Predefined Rules"): per kind, user rules come
// first and the defaults after them, with master ahead of everything in `override`.

import { defaultPushRules, MASTER_RULE_ID } from './default-rules.ts';
import { PUSH_RULE_KINDS, type PushAction, type PushRule, type PushRuleKind, type PushRuleset } from './types.ts';

/** The user's change to one server-default rule. */
export interface DefaultRuleChange {
  readonly enabled?: boolean;
  readonly actions?: readonly PushAction[];
}

export interface UserRules {
  /** Per kind, most important first. */
  readonly rules: { readonly [K in PushRuleKind]?: readonly PushRule[] };
  /** By `${kind}/${ruleId}`. */
  readonly defaultChanges: ReadonlyMap<string, DefaultRuleChange>;
}

export function defaultRuleKey(kind: PushRuleKind, ruleId: string): string {
  return `${kind}/${ruleId}`;
}

export function effectiveRuleset(userId: string, user: UserRules): PushRuleset {
  const defaults = defaultPushRules(userId);
  const changed = (kind: PushRuleKind, rule: PushRule): PushRule => {
    const change = user.defaultChanges.get(defaultRuleKey(kind, rule.rule_id));
    if (change === undefined) return rule;
    return {
      ...rule,
      ...(change.enabled === undefined ? {} : { enabled: change.enabled }),
      ...(change.actions === undefined ? {} : { actions: change.actions }),
    };
  };
  const out = {} as Record<PushRuleKind, readonly PushRule[]>;
  for (const kind of PUSH_RULE_KINDS) {
    const own = (user.rules[kind] ?? []).map((r) => ({ ...r, default: false }));
    const base = defaults[kind].map((r) => changed(kind, r));
    out[kind] = kind === 'override'
      ? [...base.filter((r) => r.rule_id === MASTER_RULE_ID), ...own, ...base.filter((r) => r.rule_id !== MASTER_RULE_ID)]
      : [...own, ...base];
  }
  return out;
}

/** The rule of `kind` with `ruleId`, or undefined. */
export function findRule(ruleset: PushRuleset, kind: PushRuleKind, ruleId: string): PushRule | undefined {
  return ruleset[kind].find((r) => r.rule_id === ruleId);
}
