// The user directory and profile visibility, built from the client API's dependencies.
import type { StoaConfig } from '../../config/types.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { UserDirectoryRepository } from '../../storage/user-directory-repository.ts';
import { createProfileAccess, type ProfileAccess } from './profile-access.ts';

export { UserDirectoryService } from './user-directory-service.ts';

/** The /profile access policy of `config.user_directory`. */
export function profileAccessFor(deps: { readonly config: StoaConfig; readonly db: StoaDatabase }): ProfileAccess {
  return createProfileAccess(deps.config.user_directory, new UserDirectoryRepository(deps.db.kysely));
}
