// POST /_matrix/client/v3/logout/all (OpenAPI logout.yaml `logout_all`): every token of the
// user ends and every device is deleted.

import { defineEndpoint } from '../../../http/define-endpoint.ts';
import type { AccountContext } from './context.ts';

export function logoutAllEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/logout/all',
    auth: 'required',
    operationId: 'logout_all',
    async handler({ auth }) {
      await context.service.deleteAllDevices(auth.userId);
      return {};
    },
  });
}
