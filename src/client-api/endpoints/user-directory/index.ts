// The user directory (client-server § "User directory").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { UserDirectoryService } from '../../user-directory/user-directory-service.ts';
import { searchUserDirectoryEndpoint } from './search-user-directory.ts';

export function userDirectoryEndpoints(directory: UserDirectoryService): Endpoint[] {
  return [searchUserDirectoryEndpoint(directory)];
}
