// POST /_matrix/client/v3/keys/query (keys.yaml `queryKeys`): device and cross-signing keys
// of local and remote users; servers that did not answer are listed in `failures`.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import type { KeysService } from '../../e2ee/keys-service.ts';

export function queryKeysEndpoint(keys: KeysService): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/keys/query',
    auth: 'required',
    body: ANY_JSON_OBJECT,
    operationId: 'queryKeys',
    handler: ({ auth, body }) => keys.query(auth.userId, body),
  });
}
