// GET /_matrix/client/v1/register/m.login.registration_token/validity (client-server API
// § "Token-authenticated registration", OpenAPI registration_tokens.yaml). 403 when
// registration is off ("all tokens are considered invalid"); rate limited against guessing.

import { defineEndpoint } from '../../../http/define-endpoint.ts';
import { forbidden, missingParam } from '../../../http/matrix-error.ts';
import { isValidRegistrationToken } from '../../auth/uia-stages.ts';
import type { AccountContext } from './context.ts';

export function registrationTokenValidityEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v1/register/m.login.registration_token/validity',
    auth: 'none',
    rateLimit: 'registration',
    operationId: 'registrationTokenValidity',
    async handler({ query }) {
      if (!context.config.registration.enabled) throw forbidden('Registration is not enabled on this homeserver');
      const token = query.get('token');
      if (token === null) throw missingParam('Missing token');
      const valid = isValidRegistrationToken(token) && (await context.service.accounts.registrationTokenUsable(token, context.clock()));
      return { valid };
    },
  });
}
