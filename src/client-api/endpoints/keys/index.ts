// The key management and cross-signing endpoints (client-server § "End-to-End Encryption").

import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { DeviceListService } from '../../e2ee/device-lists.ts';
import type { KeysService } from '../../e2ee/keys-service.ts';
import { claimKeysEndpoint } from './claim-keys.ts';
import { keyChangesEndpoint } from './key-changes.ts';
import { queryKeysEndpoint } from './query-keys.ts';
import { uploadCrossSigningKeysEndpoint, type CrossSigningUploadDeps } from './upload-cross-signing-keys.ts';
import { uploadKeysEndpoint } from './upload-keys.ts';
import { uploadSignaturesEndpoint } from './upload-signatures.ts';

export interface KeysEndpointDeps extends CrossSigningUploadDeps {
  readonly keys: KeysService;
  readonly deviceLists: DeviceListService;
}

export function keysEndpoints(deps: KeysEndpointDeps): Endpoint[] {
  return [
    uploadKeysEndpoint(deps.keys),
    queryKeysEndpoint(deps.keys),
    claimKeysEndpoint(deps.keys),
    keyChangesEndpoint(deps.deviceLists),
    uploadCrossSigningKeysEndpoint(deps),
    uploadSignaturesEndpoint(deps.crossSigning),
  ];
}
