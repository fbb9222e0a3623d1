// POST /_matrix/client/v1/login/get_token (client-server API § "Login", OpenAPI
// login_token.yaml `generateLoginToken`): a single-use m.login.token for the requester.
// The spec requires a fresh user-interactive auth every time, so the session is single use.

import { ANY_JSON_OBJECT, defineEndpoint } from '../../../http/define-endpoint.ts';
import { requireUserInteractiveAuth } from '../../auth/uia.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import { reauthFlows } from './reauth.ts';
import type { AccountContext } from './context.ts';

export function loginTokenEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v1/login/get_token',
    auth: 'required',
    body: ANY_JSON_OBJECT,
    rateLimit: 'login',
    operationId: 'generateLoginToken',
    async handler({ body, auth }) {
      if (auth.isGuest) throw forbidden('Guests cannot create login tokens');
      await requireUserInteractiveAuth(context.uia, {
        operation: 'POST /login/get_token',
        flows: await reauthFlows(context, auth.userId),
        auth: body['auth'],
        userId: auth.userId,
        singleUse: true,
      });
      const { token, expiresInMs } = await context.service.createLoginToken(auth.userId);
      return { login_token: token, expires_in_ms: expiresInMs };
    },
  });
}
