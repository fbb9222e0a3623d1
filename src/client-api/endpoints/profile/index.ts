// The profile endpoints (client-server § "Profiles").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { ProfileService } from '../../profile/profile-service.ts';
import { deleteProfileFieldEndpoint } from './delete-profile-field.ts';
import { getProfileFieldEndpoint } from './get-profile-field.ts';
import { getProfileEndpoint } from './get-profile.ts';
import { setProfileFieldEndpoint } from './set-profile-field.ts';

export function profileEndpoints(profiles: ProfileService): Endpoint[] {
  return [
    getProfileEndpoint(profiles),
    getProfileFieldEndpoint(profiles),
    setProfileFieldEndpoint(profiles),
    deleteProfileFieldEndpoint(profiles),
  ];
}
