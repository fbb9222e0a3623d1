// The device management endpoints (client-server API § "Device management").

import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { AccountContext } from '../account/context.ts';
import { deleteDeviceEndpoint } from './delete-device.ts';
import { deleteDevicesEndpoint } from './delete-devices.ts';
import { getDeviceEndpoint } from './get-device.ts';
import { listDevicesEndpoint } from './list-devices.ts';
import { updateDeviceEndpoint } from './update-device.ts';

export function deviceEndpoints(context: AccountContext): Endpoint[] {
  return [
    listDevicesEndpoint(context),
    getDeviceEndpoint(context),
    updateDeviceEndpoint(context),
    deleteDeviceEndpoint(context),
    deleteDevicesEndpoint(context),
  ];
}
