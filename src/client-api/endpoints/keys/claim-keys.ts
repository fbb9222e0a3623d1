// POST /_matrix/client/v3/keys/claim (keys.yaml `claimKeys`): one one-time key per device
// asked for (each handed out once), or the device's fallback key when none is left.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import type { KeysService } from '../../e2ee/keys-service.ts';

export function claimKeysEndpoint(keys: KeysService): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/keys/claim',
    auth: 'required',
    body: ANY_JSON_OBJECT,
    operationId: 'claimKeys',
    handler: ({ body }) => keys.claim(body),
  });
}
