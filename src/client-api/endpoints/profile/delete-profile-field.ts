// DELETE /_matrix/client/v3/profile/{userId}/{keyName} (profile.yaml `deleteProfileField`).

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import type { ProfileService } from '../../profile/profile-service.ts';

export function deleteProfileFieldEndpoint(profiles: ProfileService): Endpoint {
  return defineEndpoint({
    method: 'DELETE',
    path: '/_matrix/client/v3/profile/:userId/:keyName',
    auth: 'required',
    rateLimit: 'profile',
    operationId: 'deleteProfileField',
    handler: async ({ params, auth }) => {
      await profiles.delete(auth.userId, params['userId'] ?? '', params['keyName'] ?? '');
      return {};
    },
  });
}
