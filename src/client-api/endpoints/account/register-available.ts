// GET /_matrix/client/v3/register/available (OpenAPI registration.yaml
// `checkUsernameAvailability`): 200 `{available: true}`, or 400 M_USER_IN_USE /
// M_INVALID_USERNAME. Rate limited with registration, so it cannot enumerate accounts fast.

import { defineEndpoint } from '../../../http/define-endpoint.ts';
import { missingParam, userInUse } from '../../../http/matrix-error.ts';
import { registrationUserId } from '../../auth/user-identifier.ts';
import type { AccountContext } from './context.ts';

export function registerAvailableEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/register/available',
    auth: 'none',
    rateLimit: 'registration',
    operationId: 'checkUsernameAvailability',
    async handler({ query }) {
      const username = query.get('username');
      if (username === null) throw missingParam('Missing username');
      const mapped = registrationUserId(username, context.config.server_name);
      if (!mapped.ok) throw mapped.error;
      if (await context.service.accounts.userExists(mapped.userId)) throw userInUse('The username is taken');
      context.appServices?.checkUserNotExclusive(mapped.userId, undefined);
      return { available: true };
    },
  });
}
