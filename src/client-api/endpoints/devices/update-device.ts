// PUT /_matrix/client/v3/devices/{deviceId} (OpenAPI device_management.yaml `updateDevice`).
// Only application services may create devices this way; Stoa has none yet, so an unknown
// device is 404.

import { defineEndpoint, jsonBody } from '../../../http/define-endpoint.ts';
import { invalidParam, notFound } from '../../../http/matrix-error.ts';
import type { AccountContext } from '../account/context.ts';

/** Synapse's limit; a longer name is refused rather than cut. */
const MAX_DISPLAY_NAME_LENGTH = 100;

const UPDATE_BODY = jsonBody<{ display_name?: string }>({
  type: 'object',
  properties: { display_name: { type: 'string' } },
});

export function updateDeviceEndpoint(context: AccountContext) {
  return defineEndpoint({
    method: 'PUT',
    path: '/_matrix/client/v3/devices/:deviceId',
    auth: 'required',
    body: UPDATE_BODY,
    operationId: 'updateDevice',
    async handler({ auth, params, body }) {
      const deviceId = params['deviceId'] ?? '';
      if (body.display_name === undefined) {
        if ((await context.service.devices.find(auth.userId, deviceId)) === undefined) throw notFound('No such device');
        return {};
      }
      if (body.display_name.length > MAX_DISPLAY_NAME_LENGTH) {
        throw invalidParam(`display_name is longer than ${MAX_DISPLAY_NAME_LENGTH} characters`);
      }
      if (!(await context.service.renameDevice(auth.userId, deviceId, body.display_name))) throw notFound('No such device');
      return {};
    },
  });
}
