// Push rules, pure: the spec's default rules, a user's effective ruleset, and the evaluator.

export { conditionMatches } from './conditions.ts';
export { defaultPushRules, MASTER_RULE_ID } from './default-rules.ts';
export { parseDottedPath, valueAtPath } from './dotted-path.ts';
export { cleanActions, evaluatePushRules, ruleMatches, summariseActions } from './evaluate.ts';
export { globMatchesValue, globMatchesWords } from './glob.ts';
export { defaultRuleKey, effectiveRuleset, findRule, type DefaultRuleChange, type UserRules } from './ruleset.ts';
export {
  isPushRuleKind,
  PUSH_RULE_KINDS,
  type PushAction,
  type PushCondition,
  type PushContext,
  type PushEvaluation,
  type PushRule,
  type PushRuleKind,
  type PushRuleset,
} from './types.ts';
