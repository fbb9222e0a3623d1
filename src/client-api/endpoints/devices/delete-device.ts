// DELETE /_matrix/client/v3/devices/{deviceId} (OpenAPI device_management.yaml
// `deleteDevice`), behind user-interactive auth. The device's tokens go with it. A device
// that does not exist (any more) is 200: "or had been removed previously".

import { ANY_JSON_OBJECT, defineEndpoint } from '../../../http/define-endpoint.ts';
import { requireUserInteractiveAuth } from '../../auth/uia.ts';
import type { AccountContext } from '../account/context.ts';
import { reauthFlows } from '../account/reauth.ts';

export function deleteDeviceEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'DELETE',
    path: '/_matrix/client/v3/devices/:deviceId',
    auth: 'required',
    body: ANY_JSON_OBJECT,
    operationId: 'deleteDevice',
    async handler({ auth, params, body }) {
      const deviceId = params['deviceId'] ?? '';
      await requireUserInteractiveAuth(context.uia, {
        operation: `DELETE /devices/${JSON.stringify(deviceId)}`,
        flows: await reauthFlows(context, auth.userId),
        auth: body['auth'],
        userId: auth.userId,
      });
      await context.service.deleteDevices(auth.userId, [deviceId]);
      return {};
    },
  });
}
