// POST /_matrix/client/v3/keys/upload (keys.yaml `uploadKeys`): device keys, one-time keys
// and fallback keys of the requesting device.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import type { KeysService } from '../../e2ee/keys-service.ts';

export function uploadKeysEndpoint(keys: KeysService): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/keys/upload',
    auth: 'required',
    body: ANY_JSON_OBJECT,
    operationId: 'uploadKeys',
    async handler({ auth, body }) {
      if (auth.deviceId === undefined) throw invalidParam('Uploading keys needs an access token bound to a device');
      return keys.upload(auth.userId, auth.deviceId, body);
    },
  });
}
