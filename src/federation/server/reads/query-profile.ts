// GET /_matrix/federation/v1/query/profile?user_id=…&field=… (server-server § "Querying for
// information", query.yaml queryProfile): a local user's public profile, or one field of it.
// Read from storage (federation does not import the client API's profile service); like it,
// a user who never set a display name shows their localpart.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam, missingParam, notFound } from '../../../http/matrix-error.ts';
import { isValidUserId } from '../../../rooms/identifiers.ts';
import type { JsonObject, JsonValue } from '../../../rooms/json.ts';
import type { ProfilesRepository } from '../../../storage/profiles-repository.ts';

export type ProfileStore = Pick<ProfilesRepository, 'find' | 'userExists'>;

export function queryProfileEndpoint(deps: { readonly profiles: ProfileStore; readonly serverName: string }): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/query/profile',
    auth: 'federation',
    operationId: 'queryProfile',
    handler: async ({ query }) => {
      const userId = query.get('user_id');
      if (userId === null || userId === '') throw missingParam('user_id is required');
      if (!isValidUserId(userId, { historical: true }) || userId.slice(userId.indexOf(':') + 1) !== deps.serverName) {
        throw invalidParam('user_id is not a user of this server');
      }
      const profile = await profileOf(deps.profiles, userId);
      if (profile === undefined) throw notFound('Profile was not found');
      const field = query.get('field');
      if (field === null) return profile;
      // "If the user does not have a particular field set … exclude it from the response body."
      const value = profile[field];
      return value === undefined ? {} : { [field]: value };
    },
  });
}

async function profileOf(profiles: ProfileStore, userId: string): Promise<JsonObject | undefined> {
  const stored = await profiles.find(userId);
  if (stored !== undefined) return stored.fields as { [key: string]: JsonValue };
  if (!(await profiles.userExists(userId))) return undefined;
  const colon = userId.indexOf(':');
  return { displayname: userId.slice(1, colon) };
}
