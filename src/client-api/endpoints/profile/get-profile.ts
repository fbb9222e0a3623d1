// GET /_matrix/client/v3/profile/{userId} (profile.yaml `getUserProfile`).
// Profiles are public (no token needed), as Synapse serves them by default.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { profileNotFound, type ProfileService } from '../../profile/profile-service.ts';

export function getProfileEndpoint(profiles: ProfileService): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/profile/:userId',
    auth: 'optional',
    operationId: 'getUserProfile',
    handler: async ({ params }) => {
      const profile = await profiles.lookup(params['userId'] ?? '');
      if (profile === undefined) throw profileNotFound();
      return profile;
    },
  });
}
