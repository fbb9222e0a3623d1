// GET /_matrix/client/v3/devices (client-server API § "Device management", OpenAPI
// device_management.yaml `getDevices`).

import { defineEndpoint } from '../../../http/define-endpoint.ts';
import type { AccountContext } from '../account/context.ts';
import { formatDevice } from './format.ts';

export function listDevicesEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/devices',
    auth: 'required',
    operationId: 'getDevices',
    async handler({ auth }) {
      const devices = await context.service.devices.list(auth.userId);
      return { devices: devices.map(formatDevice) };
    },
  });
}
