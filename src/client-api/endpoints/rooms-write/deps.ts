// What the room-writing endpoints need, built once by the area's factory (./index.ts).

import type { Logger } from '../../../logger.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import type { StoaDatabase } from '../../../storage/index.ts';
import type { AliasDirectory } from '../aliases/alias-directory.ts';
import type { RemoteRoomMembership } from './remote.ts';

/** The display name and avatar a member event carries (client-server § "m.room.member"). */
export interface MemberProfiles {
  get(userId: string): Promise<{ displayname?: string; avatar_url?: string }>;
}

/** Extension point: lists a room in (or removes it from) the published room directory. */
export interface RoomPublisher {
  setVisibility(roomId: string, visibility: 'public' | 'private'): Promise<void>;
}

export interface RoomsWriteDeps {
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly serverName: string;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly aliases: AliasDirectory;
  /** Unset: member events carry no display name or avatar. */
  readonly profiles?: MemberProfiles;
  /** Unset: rooms of other servers are unknown (404), remote invitees refused (403). */
  readonly remote?: RemoteRoomMembership;
  /** Unset: `visibility: public` on createRoom is accepted but the room is not listed. */
  readonly publisher?: RoomPublisher;
  /** Checks on relations in sent events (duplicate annotations, threads); unset: none. */
  readonly relationGuard?: RelationGuard;
}

/** Refuses a relation the spec says the server should refuse, by throwing a MatrixError. */
export interface RelationGuard {
  check(roomId: string, sender: string, type: string, content: JsonObject): Promise<void>;
}
