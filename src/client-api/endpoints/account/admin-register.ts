// Shared-secret registration, compatible with Synapse's admin API
// (https://element-hq.github.io/synapse/latest/admin_api/register_api.html):
//   GET  /_synapse/admin/v1/register → {nonce}
//   POST /_synapse/admin/v1/register {nonce, username, password, admin?, displayname?,
//        user_type?, mac} → {access_token, user_id, home_server, device_id}
// A nonce is single-use (spent by any attempt, right or wrong) and lasts 60 seconds, as in
// Synapse. The endpoints exist only when `registration.shared_secret` is set, and work
// whether or not public registration is enabled. Not rate limited: the secret is the gate.

import { defineEndpoint, jsonBody } from '../../../http/define-endpoint.ts';
import { forbidden, invalidParam, MatrixError, userInUse } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { MAX_PASSWORD_LENGTH } from '../../auth/password-hash.ts';
import { randomId } from '../../auth/tokens.ts';
import { registrationUserId } from '../../auth/user-identifier.ts';
import { sessionResponse, type AccountContext } from './context.ts';
import { macMatches, sharedSecretMac } from './shared-secret-mac.ts';

export const NONCE_LIFETIME_MS = 60_000;
const PATH = '/_synapse/admin/v1/register';
/** Synapse's user types; any other value is refused. */
const USER_TYPES = new Set(['support', 'bot']);

interface AdminRegisterBody extends JsonObject {
  nonce: string;
  username: string;
  password: string;
  mac: string;
  admin?: boolean;
  displayname?: string;
  user_type?: string | null;
  refresh_token?: boolean;
}

const ADMIN_REGISTER_BODY = jsonBody<AdminRegisterBody>({
  type: 'object',
  required: ['nonce', 'username', 'password', 'mac'],
  properties: {
    nonce: { type: 'string' },
    username: { type: 'string', maxLength: 512, pattern: '^[^\\u0000]*$' },
    password: { type: 'string', maxLength: MAX_PASSWORD_LENGTH, pattern: '^[^\\u0000]*$' },
    mac: { type: 'string' },
    admin: { type: 'boolean' },
    displayname: { type: ['string', 'null'] },
    user_type: { type: ['string', 'null'] },
    refresh_token: { type: 'boolean' },
  },
});

export function adminRegisterEndpoints(context: AccountContext, sharedSecret: string) {
  const { service, config, clock } = context;
  const nonceEndpoint = defineEndpoint({
    method: 'GET',
    path: PATH,
    auth: 'none',
    async handler() {
      const now = clock();
      await service.accounts.deleteNoncesBefore(now - NONCE_LIFETIME_MS);
      const nonce = randomId(32);
      await service.accounts.insertNonce(nonce, now);
      return { nonce };
    },
  });

  const registerEndpoint = defineEndpoint({
    method: 'POST',
    path: PATH,
    auth: 'none',
    body: ADMIN_REGISTER_BODY,
    async handler({ body }) {
      if (!(await service.accounts.takeNonce(body.nonce, clock() - NONCE_LIFETIME_MS))) {
        throw new MatrixError(400, 'M_UNKNOWN', 'unrecognised nonce');
      }
      const userType = body.user_type ?? undefined;
      if (userType !== undefined && !USER_TYPES.has(userType)) throw invalidParam('Invalid user type');
      const expected = sharedSecretMac(sharedSecret, {
        nonce: body.nonce,
        username: body.username,
        password: body.password,
        admin: body.admin === true,
        userType,
      });
      if (!macMatches(expected, body.mac)) throw forbidden('HMAC incorrect');

      const mapped = registrationUserId(body.username, config.server_name);
      if (!mapped.ok) throw mapped.error;
      if (await service.accounts.userExists(mapped.userId)) throw userInUse();
      await service.register({
        userId: mapped.userId,
        password: body.password,
        isAdmin: body.admin === true,
        displayName: typeof body.displayname === 'string' ? body.displayname : undefined,
      });
      const session = await service.issueSession({ userId: mapped.userId, refreshable: body.refresh_token === true });
      return sessionResponse(session, config.server_name);
    },
  });
  return [nonceEndpoint, registerEndpoint];
}
