// POST /_matrix/client/v3/user/{userId}/openid/request_token (client-server § "OpenID",
// openid.yaml `requestOpenIdToken`).
//
// The token proves the user's identity to a third party, which exchanges it at the
// federation `/openid/userinfo` endpoint (src/federation/server/openid-userinfo.ts). It is
// good for nothing else: it is not an access token. It lives an hour, as Synapse's.

import { randomBytes } from 'node:crypto';
import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import type { StoaDatabase } from '../../../storage/index.ts';
import { OpenidTokensRepository } from '../../../storage/openid-tokens-repository.ts';

export const OPENID_TOKEN_LIFETIME_MS = 60 * 60 * 1000;

export interface OpenidDeps {
  readonly db: StoaDatabase;
  readonly serverName: string;
  readonly clock: () => number;
}

export function openidEndpoints(deps: OpenidDeps): Endpoint[] {
  const tokens = new OpenidTokensRepository(deps.db);
  return [
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/client/v3/user/:userId/openid/request_token',
      auth: 'required',
      body: ANY_JSON_OBJECT,
      rateLimit: 'openid',
      operationId: 'requestOpenIdToken',
      handler: async ({ params, auth }) => {
        if (params['userId'] !== auth.userId) throw forbidden('Cannot request OpenID tokens for other users');
        const now = deps.clock();
        // Expired tokens are dropped here rather than by a timer: minting is rare.
        await tokens.purgeExpired(now);
        const token = randomBytes(24).toString('base64url');
        await tokens.add(token, auth.userId, now + OPENID_TOKEN_LIFETIME_MS);
        return {
          access_token: token,
          token_type: 'Bearer',
          matrix_server_name: deps.serverName,
          expires_in: OPENID_TOKEN_LIFETIME_MS / 1000,
        };
      },
    }),
  ];
}
