// GET /_matrix/federation/v1/openid/userinfo (server-server § "OpenID", openid.yaml
// `exchangeOpenIdToken`): a third party exchanges a user's OpenID token for the user ID.
// Not X-Matrix signed: the caller is usually not a homeserver, and the token is the proof.

import { defineEndpoint, type Endpoint } from '../../http/define-endpoint.ts';
import { missingToken, unknownToken } from '../../http/matrix-error.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { OpenidTokensRepository } from '../../storage/openid-tokens-repository.ts';

export function openidUserinfoEndpoint(deps: { readonly db: StoaDatabase; readonly clock: () => number }): Endpoint {
  const tokens = new OpenidTokensRepository(deps.db);
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/openid/userinfo',
    auth: 'none',
    operationId: 'exchangeOpenIdToken',
    handler: async ({ query }) => {
      const token = query.get('access_token');
      if (token === null || token === '') throw missingToken('OpenID access_token is required');
      const owner = await tokens.owner(token, deps.clock());
      if (owner === undefined) throw unknownToken('OpenID token unknown or expired');
      return { sub: owner };
    },
  });
}
