// Who may read a profile (client-server § "Profiles", "Server behaviour"), as configured:
// `require_auth_for_profile_requests` turns anonymous look-ups away (401 M_MISSING_TOKEN);
// `limit_profile_requests_to_users_who_share_rooms` answers 403 M_FORBIDDEN unless the
// requester may see the user through a room. The spec's minimum still holds then: a user
// who shares a room with the requester, or is joined to a public or world_readable room,
// is always visible. The 403 comes before any existence check, so an unknown user looks the
// same as a hidden one (the spec RECOMMENDS 403 for unknown users when look-ups are limited).

import type { UserDirectoryConfig } from '../../config/types.ts';
import { forbidden, missingToken } from '../../http/matrix-error.ts';
import type { UserDirectoryRepository } from '../../storage/user-directory-repository.ts';

export interface ProfileAccess {
  /** Throws the Matrix error to answer when `requester` may not read `target`'s profile. */
  check(requester: string | undefined, target: string): Promise<void>;
}

export function createProfileAccess(config: UserDirectoryConfig, repo: UserDirectoryRepository): ProfileAccess {
  return {
    async check(requester, target) {
      if (config.require_auth_for_profile_requests && requester === undefined) {
        throw missingToken('Profile look-ups need an access token on this server');
      }
      if (config.limit_profile_requests_to_users_who_share_rooms && !(await repo.isVisible(requester, target))) {
        throw forbidden('You may not look up this profile');
      }
    },
  };
}
