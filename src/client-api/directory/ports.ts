// What the directory needs from federation: other servers' published room directories
// and the parts of spaces this server is not in. Federation provides it (main.ts); without
// federation, `server=` for another server and remote space children are unavailable.

import type { JsonObject } from '../../rooms/json.ts';
import type { SpaceChild } from '../../roomserver/directory/space-children.ts';
import type { RoomSummary } from '../../roomserver/directory/summary.ts';

export interface RemotePublicRoomsRequest {
  readonly limit?: number;
  readonly since?: string;
  readonly filter?: JsonObject;
  readonly includeAllNetworks?: boolean;
  readonly thirdPartyInstanceId?: string;
}

/** A room another server described, with its own space children. */
export interface RemoteRoom {
  readonly summary: RoomSummary;
  /** undefined when the answer did not include `children_state`. */
  readonly children: readonly SpaceChild[] | undefined;
}

/** A remote server's answer to GET /_matrix/federation/v1/hierarchy/{roomId}. */
export interface RemoteSpace {
  readonly room: RemoteRoom;
  readonly children: readonly RemoteRoom[];
  readonly inaccessibleChildren: readonly string[];
}

export interface RemoteRoomDirectory {
  /**
   * The server's published room directory (public_rooms_response.yaml), by GET or POST.
   * Throws a MatrixError (502) when the server cannot be asked.
   */
  publicRooms(server: string, method: 'GET' | 'POST', request: RemotePublicRoomsRequest): Promise<JsonObject>;
  /** The first of `via` that describes the room; undefined when none can. */
  hierarchy(roomId: string, via: readonly string[], suggestedOnly: boolean): Promise<RemoteSpace | undefined>;
}
