// GET /_matrix/client/v3/devices/{deviceId} (OpenAPI device_management.yaml `getDevice`).

import { defineEndpoint } from '../../../http/define-endpoint.ts';
import { notFound } from '../../../http/matrix-error.ts';
import type { AccountContext } from '../account/context.ts';
import { formatDevice } from './format.ts';

export function getDeviceEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/devices/:deviceId',
    auth: 'required',
    operationId: 'getDevice',
    async handler({ auth, params }) {
      const device = await context.service.devices.find(auth.userId, params['deviceId'] ?? '');
      if (device === undefined) throw notFound('No such device');
      return formatDevice(device);
    },
  });
}
