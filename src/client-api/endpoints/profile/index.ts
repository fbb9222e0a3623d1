// The profile endpoints (client-server § "Profiles").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { ProfileService } from '../../profile/profile-service.ts';
import type { ProfileAccess } from '../../user-directory/profile-access.ts';
import { deleteProfileFieldEndpoint } from './delete-profile-field.ts';
import { getProfileFieldEndpoint } from './get-profile-field.ts';
import { getProfileEndpoint } from './get-profile.ts';
import { setProfileFieldEndpoint } from './set-profile-field.ts';

/** `access`: who may read profiles (config `user_directory`); unset: everyone. */
export function profileEndpoints(profiles: ProfileService, access?: ProfileAccess): Endpoint[] {
  return [
    getProfileEndpoint(profiles, access),
    getProfileFieldEndpoint(profiles, access),
    setProfileFieldEndpoint(profiles),
    deleteProfileFieldEndpoint(profiles),
  ];
}
