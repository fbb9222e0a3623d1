// GET, PUT and DELETE /_matrix/client/v3/pushrules/global/{kind}/{ruleId} (pushrules.yaml
// getPushRule, setPushRule with `before`/`after`, deletePushRule).

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { ruleJson, type PushRulesService } from '../../push/push-rules-service.ts';

const PATH = '/_matrix/client/v3/pushrules/global/:kind/:ruleId';

export function pushRuleEndpoints(rules: PushRulesService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'GET',
      path: PATH,
      auth: 'required',
      operationId: 'getPushRule',
      handler: async ({ params, auth }) => ruleJson(await rules.rule(auth.userId, params['kind'] ?? '', params['ruleId'] ?? '')),
    }),
    defineEndpoint({
      method: 'PUT',
      path: PATH,
      auth: 'required',
      body: ANY_JSON_OBJECT,
      rateLimit: 'message',
      operationId: 'setPushRule',
      handler: async ({ params, query, body, auth }) => {
        await rules.putRule(auth.userId, params['kind'] ?? '', params['ruleId'] ?? '', {
          actions: body['actions'],
          conditions: body['conditions'],
          pattern: body['pattern'],
          before: query.get('before') ?? undefined,
          after: query.get('after') ?? undefined,
        });
        return {};
      },
    }),
    defineEndpoint({
      method: 'DELETE',
      path: PATH,
      auth: 'required',
      operationId: 'deletePushRule',
      handler: async ({ params, auth }) => {
        await rules.deleteRule(auth.userId, params['kind'] ?? '', params['ruleId'] ?? '');
        return {};
      },
    }),
  ];
}
