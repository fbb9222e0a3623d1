// PUT /_matrix/client/v3/sendToDevice/{eventType}/{txnId} (to_device.yaml `sendToDevice`):
// idempotent per transaction ID; local devices get the messages in /sync `to_device`,
// remote ones through `m.direct_to_device` EDUs.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import { getField, isJsonObject } from '../../../rooms/json.ts';
import type { ToDeviceService } from '../../e2ee/to-device-service.ts';

export function sendToDeviceEndpoint(toDevice: ToDeviceService): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: '/_matrix/client/v3/sendToDevice/:eventType/:txnId',
    auth: 'required',
    body: ANY_JSON_OBJECT,
    operationId: 'sendToDevice',
    async handler({ auth, params, body }) {
      const messages = getField(body, 'messages');
      if (!isJsonObject(messages)) throw invalidParam('messages must be an object');
      await toDevice.send(auth.userId, auth.deviceId, params['eventType'] ?? '', params['txnId'] ?? '', messages);
      return {};
    },
  });
}

export function toDeviceEndpoints(toDevice: ToDeviceService): Endpoint[] {
  return [sendToDeviceEndpoint(toDevice)];
}
