// GET /_matrix/client/v3/pushrules/ and /pushrules/global/ (pushrules.yaml getPushRules,
// getPushRulesGlobal): the user's whole ruleset; `global` is the only ruleset.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { rulesetJson, type PushRulesService } from '../../push/push-rules-service.ts';

export function getPushRulesEndpoints(rules: PushRulesService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/client/v3/pushrules/',
      auth: 'required',
      operationId: 'getPushRules',
      handler: async ({ auth }) => ({ global: rulesetJson(await rules.ruleset(auth.userId)) }),
    }),
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/client/v3/pushrules/global/',
      auth: 'required',
      operationId: 'getPushRulesGlobal',
      handler: async ({ auth }) => rulesetJson(await rules.ruleset(auth.userId)),
    }),
  ];
}
