// POST /_matrix/client/v3/account/password (client-server API § "Password management",
// OpenAPI password_management.yaml `changePassword`), behind user-interactive auth with the
// current password. With an access token, the password must be the requester's; the
// requester's own device survives `logout_devices` ("SHOULD NOT revoke the access token
// provided in the request").

import { defineEndpoint, jsonBody } from '../../../http/define-endpoint.ts';
import { forbidden, MatrixError } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { MAX_PASSWORD_LENGTH } from '../../auth/password-hash.ts';
import { requireUserInteractiveAuth } from '../../auth/uia.ts';
import type { AccountContext } from './context.ts';
import { reauthFlows } from './reauth.ts';

interface PasswordBody extends JsonObject {
  new_password: string;
  logout_devices?: boolean;
  auth?: JsonObject;
}

const PASSWORD_BODY = jsonBody<PasswordBody>({
  type: 'object',
  required: ['new_password'],
  properties: {
    new_password: { type: 'string', maxLength: MAX_PASSWORD_LENGTH },
    logout_devices: { type: 'boolean' },
    auth: { type: 'object' },
  },
});

export function changePasswordEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/account/password',
    auth: 'optional',
    body: PASSWORD_BODY,
    operationId: 'changePassword',
    async handler({ body, auth }) {
      if (!context.config.password_config.enabled) throw forbidden('Passwords are disabled on this server (password_config.enabled)');
      if (auth?.isGuest === true) throw forbidden('Guests cannot set a password');
      if (body.new_password === '') throw new MatrixError(400, 'M_WEAK_PASSWORD', 'The new password must not be empty');
      const done = await requireUserInteractiveAuth(context.uia, {
        operation: 'POST /account/password',
        flows: await reauthFlows(context, auth?.userId),
        auth: body.auth,
        userId: auth?.userId,
      });
      const userId = auth?.userId ?? done.userId;
      if (userId === undefined) throw forbidden('No user was authenticated');
      await context.service.changePassword(userId, body.new_password, {
        logoutDevices: body.logout_devices !== false,
        keepDeviceId: auth?.deviceId,
      });
      return {};
    },
  });
}
