// POST /_matrix/client/v3/login (client-server API § "Login", OpenAPI login.yaml `login`):
// m.login.password with an `identifier` (or the deprecated `user`), and m.login.token.
// Each login is a device: a new one, or the one named by `device_id`, whose earlier tokens
// end. Attempts are limited per client IP (the endpoint's bucket) and failed passwords per
// account (config rate_limits.failed_login).

import { defineEndpoint, jsonBody } from '../../../http/define-endpoint.ts';
import { badJson, forbidden, invalidParam, MatrixError, userDeactivated } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { checkPassword } from '../../auth/uia-stages.ts';
import { identifiedUser } from '../../auth/user-identifier.ts';
import { isAcceptableDeviceId, sessionResponse, type AccountContext } from './context.ts';

interface LoginBody extends JsonObject {
  type: string;
  password?: string;
  token?: string;
  device_id?: string;
  initial_device_display_name?: string;
  refresh_token?: boolean;
}

const LOGIN_BODY = jsonBody<LoginBody>({
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string' },
    identifier: { type: 'object' },
    user: { type: 'string' },
    password: { type: 'string' },
    token: { type: 'string' },
    device_id: { type: 'string' },
    initial_device_display_name: { type: 'string' },
    refresh_token: { type: 'boolean' },
  },
});

export function loginEndpoint(context: AccountContext) {
  const { service, config } = context;
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/login',
    auth: 'none',
    body: LOGIN_BODY,
    rateLimit: 'login',
    operationId: 'login',
    async handler({ body }) {
      if (body.device_id !== undefined && !isAcceptableDeviceId(body.device_id)) throw invalidParam('Invalid device_id');
      let userId: string;
      switch (body.type) {
        case 'm.login.password':
          userId = await passwordLogin(context, body);
          break;
        case 'm.login.token': {
          if (typeof body.token !== 'string') throw badJson('Missing token');
          const owner = await service.consumeLoginToken(body.token);
          if (owner === undefined) throw forbidden('Invalid login token');
          const user = await service.accounts.findUser(owner);
          if (user === undefined || user.deactivated) throw userDeactivated();
          userId = owner;
          break;
        }
        default:
          // The spec's own example for an unsupported type.
          throw new MatrixError(400, 'M_UNKNOWN', 'Bad login type');
      }
      const session = await service.issueSession({
        userId,
        deviceId: body.device_id,
        initialDisplayName: body.initial_device_display_name,
        refreshable: body.refresh_token === true,
      });
      return sessionResponse(session, config.server_name);
    },
  });
}

async function passwordLogin(context: AccountContext, body: LoginBody): Promise<string> {
  if (typeof body.password !== 'string') throw badJson('Missing password');
  const identified = identifiedUser(body, context.config.server_name);
  if (!identified.ok) throw identified.error;
  const user = await context.service.accounts.findUser(identified.userId);
  if (user?.deactivated === true) throw userDeactivated();
  const failure = await checkPassword(context.service.accounts, identified.userId, body.password, context.failedLogins);
  if (failure !== undefined) throw failure;
  return identified.userId;
}
