// POST /_matrix/client/v3/delete_devices (OpenAPI device_management.yaml `deleteDevices`),
// behind user-interactive auth bound to the exact set of devices.

import { defineEndpoint, jsonBody } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { requireUserInteractiveAuth } from '../../auth/uia.ts';
import type { AccountContext } from '../account/context.ts';
import { reauthFlows } from '../account/reauth.ts';

const DELETE_DEVICES_BODY = jsonBody<{ devices: string[]; auth?: JsonObject }>({
  type: 'object',
  required: ['devices'],
  properties: {
    devices: { type: 'array', items: { type: 'string' }, maxItems: 1000 },
    auth: { type: 'object' },
  },
});

export function deleteDevicesEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/delete_devices',
    auth: 'required',
    body: DELETE_DEVICES_BODY,
    operationId: 'deleteDevices',
    async handler({ auth, body }) {
      const deviceIds = [...new Set(body.devices)].sort();
      await requireUserInteractiveAuth(context.uia, {
        operation: `POST /delete_devices ${JSON.stringify(deviceIds)}`,
        flows: await reauthFlows(context, auth.userId),
        auth: body.auth,
        userId: auth.userId,
      });
      await context.service.deleteDevices(auth.userId, deviceIds);
      return {};
    },
  });
}
