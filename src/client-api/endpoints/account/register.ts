// POST /_matrix/client/v3/register (client-server API § "Account registration", OpenAPI
// registration.yaml `register`).
//
// Order, as the spec asks: refusals that need no authentication (registration off, a bad
// or taken username) come before user-interactive auth; the account is created only once a
// flow is complete. A client retrying a request whose session already registered an
// account gets a login for that account instead of M_USER_IN_USE.

import { randomInt } from 'node:crypto';
import { defineEndpoint, jsonBody } from '../../../http/define-endpoint.ts';
import type { AppServiceRegistration } from '../../../appservice/registration.ts';
import { badJson, forbidden, invalidParam, MatrixError, missingParam, userInUse } from '../../../http/matrix-error.ts';
import { isJsonObject, type JsonObject } from '../../../rooms/json.ts';
import { MAX_PASSWORD_LENGTH } from '../../auth/password-hash.ts';
import { DUMMY, REGISTRATION_TOKEN, REGISTRATION_TOKEN_KEY } from '../../auth/uia-stages.ts';
import { requireUserInteractiveAuth } from '../../auth/uia.ts';
import { registrationUserId } from '../../auth/user-identifier.ts';
import { isAcceptableDeviceId, sessionResponse, type AccountContext } from './context.ts';

interface RegisterBody extends JsonObject {
  type?: string;
  auth?: JsonObject;
  username?: string;
  password?: string;
  device_id?: string;
  initial_device_display_name?: string;
  inhibit_login?: boolean;
  refresh_token?: boolean;
}

const REGISTER_BODY = jsonBody<RegisterBody>({
  type: 'object',
  properties: {
    type: { type: 'string' },
    auth: { type: 'object' },
    username: { type: 'string' },
    password: { type: 'string', maxLength: MAX_PASSWORD_LENGTH },
    device_id: { type: 'string' },
    initial_device_display_name: { type: 'string' },
    inhibit_login: { type: 'boolean' },
    refresh_token: { type: 'boolean' },
  },
});

/** The registration (and login) type of application services. */
export const APPSERVICE_LOGIN_TYPE = 'm.login.application_service';

/** Session data key: the account this session registered. */
const REGISTERED_USER_KEY = 'registered_user_id';

export function registerEndpoint(context: AccountContext) {
  const { config, service, uia } = context;
  const serverName = config.server_name;
  const flows = config.registration.require_token ? [[REGISTRATION_TOKEN]] : [[DUMMY]];

  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/register',
    auth: 'none',
    body: REGISTER_BODY,
    rateLimit: 'registration',
    operationId: 'register',
    async handler({ body, query, ctx }) {
      if (body.type === APPSERVICE_LOGIN_TYPE && context.appServices !== undefined) {
        return registerAppServiceUser(context, body, context.appServices.serviceForRequest(ctx.get('Authorization'), query));
      }
      const kind = query.get('kind') ?? 'user';
      if (kind !== 'user' && kind !== 'guest') throw invalidParam('kind must be "user" or "guest"');
      if (body.device_id !== undefined && !isAcceptableDeviceId(body.device_id)) throw invalidParam('Invalid device_id');
      const refreshable = body.refresh_token === true;

      if (kind === 'guest') {
        // "All parameters ... with the exception of initial_device_display_name MUST BE ignored."
        if (!config.registration.allow_guests) throw forbidden('Guest access is disabled');
        const userId = await registerGuest(context);
        const session = await service.issueSession({ userId, initialDisplayName: body.initial_device_display_name, refreshable });
        return sessionResponse(session, serverName);
      }
      if (!config.registration.enabled) throw forbidden('Registration is disabled');

      const sessionId = isJsonObject(body.auth) && typeof body.auth['session'] === 'string' ? body.auth['session'] : undefined;
      const earlier = sessionId === undefined ? undefined : (await uia.sessionData(sessionId))?.[REGISTERED_USER_KEY];
      let userId: string | undefined = typeof earlier === 'string' ? earlier : undefined;

      if (userId === undefined && body.username !== undefined) {
        const mapped = registrationUserId(body.username, serverName);
        if (!mapped.ok) throw mapped.error;
        if (await service.accounts.userExists(mapped.userId)) throw userInUse();
        context.appServices?.checkUserNotExclusive(mapped.userId, undefined);
        userId = mapped.userId;
      }

      const done = await requireUserInteractiveAuth(uia, { operation: 'POST /register', flows, auth: body.auth });

      if (typeof earlier !== 'string') {
        userId ??= await freeGeneratedUserId(context);
        const token = done.data[REGISTRATION_TOKEN_KEY];
        await service.register({
          userId,
          password: body.password,
          registrationToken: config.registration.require_token && typeof token === 'string' ? token : undefined,
        });
        await uia.setSessionData(done.sessionId, REGISTERED_USER_KEY, userId);
      }
      if (userId === undefined) throw new MatrixError(500, 'M_UNKNOWN', 'Registration produced no user');

      if (body.inhibit_login === true) return { user_id: userId, home_server: serverName };
      const session = await service.issueSession({
        userId,
        deviceId: body.device_id,
        initialDisplayName: body.initial_device_display_name,
        refreshable,
      });
      return sessionResponse(session, serverName);
    },
  });
}

/**
 * Application-service registration (application-service API § "Server admin style
 * permissions"): no user-interactive auth and no password; the user must be in the
 * service's namespaces and in no other service's exclusive one (M_EXCLUSIVE).
 */
async function registerAppServiceUser(context: AccountContext, body: RegisterBody, registration: AppServiceRegistration): Promise<JsonObject> {
  const { service, config } = context;
  const appServices = context.appServices;
  if (body.username === undefined) throw missingParam('An application service must choose the username');
  const mapped = registrationUserId(body.username, config.server_name);
  if (!mapped.ok) throw mapped.error;
  if (appServices === undefined || !appServices.matcher.isUserOf(registration, mapped.userId)) {
    throw new MatrixError(400, 'M_EXCLUSIVE', 'The user ID is not in the application service\'s namespaces');
  }
  appServices.checkUserNotExclusive(mapped.userId, registration);
  await service.register({ userId: mapped.userId, password: undefined });
  if (body.inhibit_login === true) return { user_id: mapped.userId, home_server: config.server_name };
  const session = await service.issueSession({
    userId: mapped.userId,
    deviceId: body.device_id,
    initialDisplayName: body.initial_device_display_name,
    refreshable: body.refresh_token === true,
  });
  return sessionResponse(session, config.server_name);
}

/** Guests get all-digit localparts (refused to ordinary registration, so never taken by one). */
async function registerGuest(context: AccountContext): Promise<string> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const userId = `@${randomInt(1, 2 ** 47)}:${context.config.server_name}`;
    try {
      await context.service.register({ userId, password: undefined, isGuest: true });
      return userId;
    } catch (error) {
      if (!(error instanceof MatrixError && error.errcode === 'M_USER_IN_USE')) throw error;
    }
  }
  throw new MatrixError(500, 'M_UNKNOWN', 'Could not allocate a guest user ID');
}

/** "If omitted, the homeserver MUST generate a Matrix ID local part." */
async function freeGeneratedUserId(context: AccountContext): Promise<string> {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0234567';
  for (let attempt = 0; attempt < 10; attempt++) {
    let localpart = 'u';
    for (let i = 0; i < 11; i++) localpart += alphabet[randomInt(alphabet.length)];
    const userId = `@${localpart}:${context.config.server_name}`;
    if (!(await context.service.accounts.userExists(userId))) return userId;
  }
  throw badJson('Could not generate a user ID; choose a username');
}
