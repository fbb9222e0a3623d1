// The room directory over federation: published rooms and space hierarchies of this server.

import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { RoomDirectoryQueries } from '../../../roomserver/directory/room-directory.ts';
import type { RoomAccess } from '../../policy/room-access.ts';
import { federationHierarchyEndpoint } from './hierarchy.ts';
import { federationPublicRoomsEndpoints } from './public-rooms.ts';

export function federationDirectoryEndpoints(rooms: RoomDirectoryQueries, access: Pick<RoomAccess, 'aclAllows'>): Endpoint[] {
  return [...federationPublicRoomsEndpoints(rooms), federationHierarchyEndpoint({ rooms, access })];
}
