// PUT /_matrix/client/v3/profile/{userId}/{keyName} (profile.yaml `setProfileField`): the body
// holds exactly the field named in the path. Setting displayname or avatar_url also updates
// the user's member events (§ "Events on Change of Profile Information").

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { missingParam } from '../../../http/matrix-error.ts';
import { getField } from '../../../rooms/json.ts';
import type { ProfileService } from '../../profile/profile-service.ts';

export function setProfileFieldEndpoint(profiles: ProfileService): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: '/_matrix/client/v3/profile/:userId/:keyName',
    auth: 'required',
    body: ANY_JSON_OBJECT,
    rateLimit: 'profile',
    operationId: 'setProfileField',
    handler: async ({ params, body, auth }) => {
      const key = params['keyName'] ?? '';
      const value = getField(body, key);
      if (value === undefined) throw missingParam(`The body must contain "${key}"`);
      await profiles.set(auth.userId, params['userId'] ?? '', key, value);
      return {};
    },
  });
}
