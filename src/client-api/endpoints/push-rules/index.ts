// Push rules (client-server § "Push Rules: API").

import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { PushRulesService } from '../../push/push-rules-service.ts';
import { getPushRulesEndpoints } from './get-rules.ts';
import { pushRuleAttributeEndpoints } from './rule-attributes.ts';
import { pushRuleEndpoints } from './rule.ts';

export function pushRulesEndpoints(rules: PushRulesService): Endpoint[] {
  // The /enabled and /actions routes first: `:ruleId` must not swallow them.
  return [...getPushRulesEndpoints(rules), ...pushRuleAttributeEndpoints(rules), ...pushRuleEndpoints(rules)];
}
