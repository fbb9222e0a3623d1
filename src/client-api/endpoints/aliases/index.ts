// The room alias endpoints (client-server § "Room aliases", directory.yaml).

import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import type { AliasDirectory } from './alias-directory.ts';
import { deleteRoomAliasEndpoint } from './delete-room-alias.ts';
import { getRoomAliasEndpoint } from './get-room-alias.ts';
import { localAliasesEndpoint } from './local-aliases.ts';
import { setRoomAliasEndpoint } from './set-room-alias.ts';

export { AliasDirectory, type AliasDirectoryOptions, type RemoteAliasResolver, type ResolvedAlias } from './alias-directory.ts';

export function aliasEndpoints(aliases: AliasDirectory, roomserver: Roomserver): Endpoint[] {
  return [
    setRoomAliasEndpoint(aliases, roomserver),
    getRoomAliasEndpoint(aliases),
    deleteRoomAliasEndpoint(aliases, roomserver),
    localAliasesEndpoint(aliases, roomserver),
  ];
}
