// POST /_matrix/client/v3/keys/signatures/upload (cross_signing.yaml
// `uploadCrossSigningSignatures`): each signature verified; failures reported per key.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import type { CrossSigningService } from '../../e2ee/cross-signing-service.ts';

export function uploadSignaturesEndpoint(crossSigning: CrossSigningService): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/keys/signatures/upload',
    auth: 'required',
    body: ANY_JSON_OBJECT,
    operationId: 'uploadCrossSigningSignatures',
    handler: ({ auth, body }) => crossSigning.uploadSignatures(auth.userId, body),
  });
}
