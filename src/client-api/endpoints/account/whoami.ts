// GET /_matrix/client/v3/account/whoami (OpenAPI whoami.yaml `getTokenOwner`).

import { defineEndpoint } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';

export const whoamiEndpoint = defineEndpoint({
  method: 'GET',
  path: '/_matrix/client/v3/account/whoami',
  auth: 'required',
  operationId: 'getTokenOwner',
  handler({ auth }) {
    const body: JsonObject = { user_id: auth.userId, is_guest: auth.isGuest };
    if (auth.deviceId !== undefined) body['device_id'] = auth.deviceId;
    return body;
  },
});
