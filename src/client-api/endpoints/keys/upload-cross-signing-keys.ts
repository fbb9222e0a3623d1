// POST /_matrix/client/v3/keys/device_signing/upload (cross_signing.yaml
// `uploadCrossSigningKeys`). User-interactive auth is required unless the user has no master
// key yet, or the upload repeats the stored keys exactly (spec v1.11).

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { getField } from '../../../rooms/json.ts';
import { requireUserInteractiveAuth, type UserInteractiveAuth } from '../../auth/uia.ts';
import type { CrossSigningService } from '../../e2ee/cross-signing-service.ts';

export interface CrossSigningUploadDeps {
  readonly crossSigning: CrossSigningService;
  readonly uia: UserInteractiveAuth;
  /** The UIA flows that re-authenticate `userId`. */
  readonly reauthFlows: (userId: string) => Promise<string[][]>;
}

export function uploadCrossSigningKeysEndpoint(deps: CrossSigningUploadDeps): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/keys/device_signing/upload',
    auth: 'required',
    body: ANY_JSON_OBJECT,
    operationId: 'uploadCrossSigningKeys',
    async handler({ auth, body }) {
      const prepared = await deps.crossSigning.prepareUpload(auth.userId, body);
      if (prepared.needsAuth) {
        await requireUserInteractiveAuth(deps.uia, {
          operation: 'POST /keys/device_signing/upload',
          flows: await deps.reauthFlows(auth.userId),
          auth: getField(body, 'auth'),
          userId: auth.userId,
        });
      }
      await deps.crossSigning.storeKeys(auth.userId, prepared.keys);
      return {};
    },
  });
}
