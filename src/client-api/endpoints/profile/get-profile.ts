// GET /_matrix/client/v3/profile/{userId} (profile.yaml `getUserProfile`).
// Profiles are public (no token needed), as Synapse serves them by default, unless the
// configuration limits them (`access`, see ../../user-directory/profile-access.ts).

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { profileNotFound, type ProfileService } from '../../profile/profile-service.ts';
import type { ProfileAccess } from '../../user-directory/profile-access.ts';

export function getProfileEndpoint(profiles: ProfileService, access?: ProfileAccess): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/profile/:userId',
    auth: 'optional',
    operationId: 'getUserProfile',
    handler: async ({ params, auth }) => {
      await access?.check(auth?.userId, params['userId'] ?? '');
      const profile = await profiles.lookup(params['userId'] ?? '');
      if (profile === undefined) throw profileNotFound();
      return profile;
    },
  });
}
