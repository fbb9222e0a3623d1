// Evaluating a user's push rules against one event (client-server § "Push Rules"): the kinds
// are checked in order (override, content, room, sender, underride), within a kind in the
// ruleset's order, and the first enabled rule that matches decides the actions. No match:
// no notification. The user's own events never notify ("Homeservers MUST NOT notify the
// Push Gateway for events that the user has sent themselves").

import { getField, isJsonObject, type JsonObject, type JsonValue } from '../json.ts';
import { conditionMatches } from './conditions.ts';
import { globMatchesWords } from './glob.ts';
import {
  PUSH_RULE_KINDS,
  type PushAction,
  type PushContext,
  type PushEvaluation,
  type PushRule,
  type PushRuleKind,
  type PushRuleset,
} from './types.ts';

/** § "Historical Actions": ignored, "for instance, by stripping them". */
const HISTORICAL_ACTIONS: ReadonlySet<string> = new Set(['dont_notify', 'coalesce']);

const NO_MATCH: PushEvaluation = { actions: [], notify: false, highlight: false, sound: undefined, tweaks: {}, rule: undefined };

export function evaluatePushRules(ruleset: PushRuleset, event: JsonObject, ctx: PushContext): PushEvaluation {
  if (getField(event, 'sender') === ctx.userId) return NO_MATCH;
  for (const kind of PUSH_RULE_KINDS) {
    for (const rule of ruleset[kind]) {
      if (rule.enabled && ruleMatches(kind, rule, event, ctx)) return outcome(kind, rule);
    }
  }
  return NO_MATCH;
}

export function ruleMatches(kind: PushRuleKind, rule: PushRule, event: JsonObject, ctx: PushContext): boolean {
  switch (kind) {
    case 'override':
    case 'underride':
      return (rule.conditions ?? []).every((c) => isJsonObject(c) && conditionMatches(c, event, ctx));
    case 'content': {
      const content = getField(event, 'content');
      const body = isJsonObject(content) ? getField(content, 'body') : undefined;
      return typeof rule.pattern === 'string' && typeof body === 'string' && globMatchesWords(rule.pattern, body);
    }
    case 'room':
      return getField(event, 'room_id') === rule.rule_id;
    case 'sender':
      return getField(event, 'sender') === rule.rule_id;
  }
}

/** `actions` without the historical actions clients and servers must ignore. */
export function cleanActions(actions: readonly PushAction[]): PushAction[] {
  return actions.filter((a) => typeof a !== 'string' || !HISTORICAL_ACTIONS.has(a));
}

/** What a list of actions amounts to: notify, and the tweaks (`highlight` without value is true). */
export function summariseActions(actions: readonly PushAction[]): Omit<PushEvaluation, 'rule' | 'actions'> {
  const tweaks: Record<string, JsonValue> = {};
  let notify = false;
  for (const action of actions) {
    if (action === 'notify') notify = true;
    else if (isJsonObject(action)) {
      const name = getField(action, 'set_tweak');
      if (typeof name !== 'string') continue;
      const value = getField(action, 'value');
      tweaks[name] = name === 'highlight' && value === undefined ? true : (value ?? null);
    }
  }
  const sound = tweaks['sound'];
  return { notify, highlight: tweaks['highlight'] === true, sound: typeof sound === 'string' ? sound : undefined, tweaks };
}

function outcome(kind: PushRuleKind, rule: PushRule): PushEvaluation {
  const actions = cleanActions(rule.actions);
  return { actions, ...summariseActions(actions), rule: { kind, ruleId: rule.rule_id } };
}
