// GET /_matrix/client/v3/profile/{userId}/{keyName} (profile.yaml `getProfileField`).

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { getField } from '../../../rooms/json.ts';
import { profileNotFound, type ProfileService } from '../../profile/profile-service.ts';
import type { ProfileAccess } from '../../user-directory/profile-access.ts';

export function getProfileFieldEndpoint(profiles: ProfileService, access?: ProfileAccess): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/profile/:userId/:keyName',
    auth: 'optional',
    operationId: 'getProfileField',
    handler: async ({ params, auth }) => {
      await access?.check(auth?.userId, params['userId'] ?? '');
      const key = params['keyName'] ?? '';
      const profile = await profiles.lookup(params['userId'] ?? '');
      const value = profile === undefined ? undefined : getField(profile, key);
      if (value === undefined) throw profileNotFound();
      return { [key]: value };
    },
  });
}
