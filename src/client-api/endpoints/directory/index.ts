// The room directory: publishing rooms, /publicRooms here and on other servers, room
// summaries and space hierarchies (client-server § "Published room directory",
// "Room Summaries", "Spaces").

import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { RoomDirectoryQueries } from '../../../roomserver/directory/room-directory.ts';
import type { SpaceHierarchy } from '../../directory/space-hierarchy.ts';
import type { RemoteRoomDirectory } from '../../directory/ports.ts';
import type { AliasDirectory } from '../aliases/alias-directory.ts';
import { spaceHierarchyEndpoint } from './hierarchy.ts';
import { getPublicRoomsEndpoint, queryPublicRoomsEndpoint } from './public-rooms.ts';
import { roomSummaryEndpoints } from './room-summary.ts';
import { getRoomVisibilityEndpoint, setRoomVisibilityEndpoint, type VisibilityDeps } from './visibility.ts';

export interface DirectoryEndpointsDeps {
  readonly visibility: VisibilityDeps;
  readonly rooms: RoomDirectoryQueries;
  readonly aliases: AliasDirectory;
  readonly hierarchy: SpaceHierarchy;
  readonly remote: RemoteRoomDirectory | undefined;
}

export function directoryEndpoints(deps: DirectoryEndpointsDeps): Endpoint[] {
  return [
    getRoomVisibilityEndpoint(deps.visibility),
    setRoomVisibilityEndpoint(deps.visibility),
    getPublicRoomsEndpoint(deps),
    queryPublicRoomsEndpoint(deps),
    ...roomSummaryEndpoints(deps),
    spaceHierarchyEndpoint(deps.hierarchy),
  ];
}
