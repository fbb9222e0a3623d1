// /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/enabled and /actions, GET and PUT
// (pushrules.yaml isPushRuleEnabled, setPushRuleEnabled, getPushRuleActions,
// setPushRuleActions). Server-default rules may be disabled and given other actions too.

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { PushRulesService } from '../../push/push-rules-service.ts';

const BASE = '/_matrix/client/v3/pushrules/global/:kind/:ruleId';

const ENABLED_BODY = jsonBody<{ enabled: boolean }>({
  type: 'object',
  required: ['enabled'],
  properties: { enabled: { type: 'boolean' } },
});

const ACTIONS_BODY = jsonBody<JsonObject>({ type: 'object', required: ['actions'], properties: { actions: { type: 'array' } } });

export function pushRuleAttributeEndpoints(rules: PushRulesService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'GET',
      path: `${BASE}/enabled`,
      auth: 'required',
      operationId: 'isPushRuleEnabled',
      handler: async ({ params, auth }) => ({ enabled: (await rules.rule(auth.userId, params['kind'] ?? '', params['ruleId'] ?? '')).enabled }),
    }),
    defineEndpoint({
      method: 'PUT',
      path: `${BASE}/enabled`,
      auth: 'required',
      body: ENABLED_BODY,
      operationId: 'setPushRuleEnabled',
      handler: async ({ params, body, auth }) => {
        await rules.setEnabled(auth.userId, params['kind'] ?? '', params['ruleId'] ?? '', body.enabled);
        return {};
      },
    }),
    defineEndpoint({
      method: 'GET',
      path: `${BASE}/actions`,
      auth: 'required',
      operationId: 'getPushRuleActions',
      handler: async ({ params, auth }) => ({ actions: [...(await rules.rule(auth.userId, params['kind'] ?? '', params['ruleId'] ?? '')).actions] }),
    }),
    defineEndpoint({
      method: 'PUT',
      path: `${BASE}/actions`,
      auth: 'required',
      body: ACTIONS_BODY,
      operationId: 'setPushRuleActions',
      handler: async ({ params, body, auth }) => {
        await rules.setActions(auth.userId, params['kind'] ?? '', params['ruleId'] ?? '', body['actions']);
        return {};
      },
    }),
  ];
}
