// GET /_matrix/federation/v1/hierarchy/{roomId} (server-server § "Spaces",
// space_hierarchy.yaml): a space this server is in and its direct children, for another
// server walking the space for its user. Children this server is in but the asking server
// could not peek or join are listed in `inaccessible_children`; children this server is
// not in are left out (the asker tries their `via` servers itself).

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam, notFound } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { RoomDirectoryQueries } from '../../../roomserver/directory/room-directory.ts';
import { roomSummaryJson } from '../../../roomserver/directory/summary.ts';
import type { RoomAccess } from '../../policy/room-access.ts';

/** As many children as the client API walks per space. */
const MAX_CHILDREN = 50;

export interface FederationHierarchyDeps {
  readonly rooms: RoomDirectoryQueries;
  readonly access: Pick<RoomAccess, 'aclAllows'>;
}

export function federationHierarchyEndpoint(deps: FederationHierarchyDeps): Endpoint {
  const { rooms } = deps;
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/hierarchy/:roomId',
    auth: 'federation',
    operationId: 'getSpaceHierarchy',
    handler: async ({ params, query, auth }) => {
      const roomId = params['roomId'] ?? '';
      const suggested = query.get('suggested_only');
      if (suggested !== null && suggested !== 'true' && suggested !== 'false') throw invalidParam('suggested_only must be true or false');
      const suggestedOnly = suggested === 'true';
      const origin = auth.serverName;

      const root = (await rooms.isResident(roomId)) ? await rooms.summary(roomId) : undefined;
      if (root === undefined || !(await rooms.serverMayPreview(root, origin)) || !(await deps.access.aclAllows(roomId, origin))) {
        throw notFound('Room does not exist, or your server may not view it');
      }
      const allChildren = await rooms.children(roomId);
      const walked = (suggestedOnly ? allChildren.filter((child) => child.suggested) : allChildren).slice(0, MAX_CHILDREN);
      const children: JsonObject[] = [];
      const inaccessible: string[] = [];
      const summaries = await rooms.summaries(walked.map((child) => child.roomId));
      for (const child of walked) {
        const summary = summaries.get(child.roomId);
        if (summary === undefined || !(await rooms.isResident(child.roomId))) continue;
        if (!(await rooms.serverMayPreview(summary, origin)) || !(await deps.access.aclAllows(child.roomId, origin))) {
          inaccessible.push(child.roomId);
          continue;
        }
        const grandchildren = await rooms.children(child.roomId);
        children.push({ ...roomSummaryJson(summary), children_state: grandchildren.map((c) => c.stripped) });
      }
      return {
        room: { ...roomSummaryJson(root), children_state: walked.map((child) => child.stripped) },
        children,
        inaccessible_children: inaccessible,
      };
    },
  });
}
