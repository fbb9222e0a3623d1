// Extension points for membership changes that need another server (server-server §
// "Joining Rooms", "Inviting to a room", "Knocking upon a room", "Leaving Rooms (Rejecting
// Invites)"). The federation side implements them; the composition root passes them in.
// Without one, such requests answer as if the room were unknown (404 M_NOT_FOUND), or, for
// inviting a user of another server, 403 M_FORBIDDEN.

import type { JsonObject } from '../../../rooms/json.ts';

export interface RemoteMembershipRequest {
  readonly roomId: string;
  readonly userId: string;
  /** Servers to try, best first (the `via` query, the alias's servers, the room ID's server). */
  readonly servers: readonly string[];
  /** Member event content beyond `membership` (displayname, avatar_url, reason). */
  readonly content: JsonObject;
}

export interface RemoteInviteRequest {
  readonly roomId: string;
  readonly sender: string;
  readonly target: string;
  /** The invite's content (`membership: invite`, reason, is_direct). */
  readonly content: JsonObject;
}

export interface RemoteRoomMembership {
  /** make_join + send_join through `servers`; resolves once the room is joined here. */
  join(request: RemoteMembershipRequest): Promise<{ roomId: string }>;
  /** make_knock + send_knock. */
  knock(request: RemoteMembershipRequest): Promise<{ roomId: string }>;
  /** make_leave + send_leave: rejects an invite (or retracts a knock) to a room not held here. */
  leave(request: RemoteMembershipRequest): Promise<void>;
  /** PUT /invite to the target's server, then the counter-signed event enters the room. */
  invite(request: RemoteInviteRequest): Promise<{ eventId: string }>;
}
