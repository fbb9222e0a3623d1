// GET /_matrix/client/v3/login (OpenAPI login.yaml `getLoginFlows`).

import { defineEndpoint } from '../../../http/define-endpoint.ts';

export const loginFlowsEndpoint = defineEndpoint({
  method: 'GET',
  path: '/_matrix/client/v3/login',
  auth: 'none',
  operationId: 'getLoginFlows',
  handler: () => ({
    flows: [{ type: 'm.login.password' }, { type: 'm.login.token', get_login_token: true }],
  }),
});
