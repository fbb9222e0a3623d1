// POST /_matrix/client/v3/account/deactivate (client-server API § "Account deactivation",
// OpenAPI account_deactivation.yaml `deactivateAccount`), behind user-interactive auth.
// Stoa binds no third-party identifiers, so there is never anything to unbind: `success`.
// `erase` is accepted; erasure of past events is not implemented yet.

import { defineEndpoint, jsonBody } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { requireUserInteractiveAuth } from '../../auth/uia.ts';
import type { AccountContext } from './context.ts';
import { reauthFlows } from './reauth.ts';

const DEACTIVATE_BODY = jsonBody<JsonObject & { auth?: JsonObject }>({
  type: 'object',
  properties: {
    auth: { type: 'object' },
    id_server: { type: 'string' },
    erase: { type: 'boolean' },
  },
});

export function deactivateEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/account/deactivate',
    auth: 'optional',
    body: DEACTIVATE_BODY,
    operationId: 'deactivateAccount',
    async handler({ body, auth }) {
      const done = await requireUserInteractiveAuth(context.uia, {
        operation: 'POST /account/deactivate',
        flows: await reauthFlows(context, auth?.userId),
        auth: body.auth,
        userId: auth?.userId,
      });
      const userId = auth?.userId ?? done.userId;
      if (userId === undefined) throw forbidden('No user was authenticated');
      await context.service.deactivate(userId);
      return { id_server_unbind_result: 'success' };
    },
  });
}
