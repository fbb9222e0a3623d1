// POST /_matrix/client/v3/logout (OpenAPI logout.yaml `logout`): the token ends, and "the
// device associated with the access token is also deleted".

import { defineEndpoint } from '../../../http/define-endpoint.ts';
import type { AccountContext } from './context.ts';

export function logoutEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/logout',
    auth: 'required',
    operationId: 'logout',
    async handler({ auth }) {
      if (auth.deviceId !== undefined) await context.service.deleteDevices(auth.userId, [auth.deviceId]);
      return {};
    },
  });
}
