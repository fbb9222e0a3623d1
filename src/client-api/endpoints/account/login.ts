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
    async handler({ body, query, ctx }) {
      if (body.device_id !== undefined && !isAcceptableDeviceId(body.device_id)) throw invalidParam('Invalid device_id');
      let userId: string;
      switch (body.type) {
        case 'm.login.password':
          // `password_config.enabled: false`: as unsupported as any type GET /login leaves out.
          if (!config.password_config.enabled) throw new MatrixError(400, 'M_UNKNOWN', 'Password login is disabled on this server');
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
        case 'm.login.application_service':
          userId = await appServiceLogin(context, body, ctx.get('Authorization'), query);
          break;
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

/**
 * m.login.application_service (application-service API § "Server admin style permissions"):
 * the service's `as_token` logs in as one of its users; outside its namespaces M_EXCLUSIVE.
 */
async function appServiceLogin(context: AccountContext, body: LoginBody, authorization: string, query: URLSearchParams): Promise<string> {
  const appServices = context.appServices;
  if (appServices === undefined) throw new MatrixError(400, 'M_UNKNOWN', 'Bad login type');
  const registration = appServices.serviceForRequest(authorization, query);
  const identified = identifiedUser(body, context.config.server_name);
  if (!identified.ok) throw identified.error;
  if (!appServices.matcher.isUserOf(registration, identified.userId)) {
    throw new MatrixError(400, 'M_EXCLUSIVE', 'The user is not in the application service\'s namespaces');
  }
  const user = await context.service.accounts.findUser(identified.userId);
  if (user === undefined) throw forbidden('Invalid username');
  if (user.deactivated) throw userDeactivated();
  return identified.userId;
}
