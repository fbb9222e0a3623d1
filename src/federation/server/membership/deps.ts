// What the membership endpoints are given (main.ts / createFederation wires them).

import type { SigningKey } from '../../../crypto/signing-key.ts';
import type { Logger } from '../../../logger.ts';
import type { RemoteKeyLookup, Roomserver } from '../../../roomserver/index.ts';
import type { MembershipRoomReader } from './room-view.ts';

export interface MembershipEndpointDeps {
  readonly serverName: string;
  readonly signingKey: SigningKey;
  readonly roomserver: MembershipRoomReader & Pick<Roomserver, 'receivePdu' | 'receiveOutOfBandMembership'>;
  /** The room's server ACL (server-server § "Server ACLs"). */
  readonly acl: { aclAllows(roomId: string, serverName: string): Promise<boolean> };
  /** Remote servers' keys, to check the sender's signature on an invite. */
  readonly remoteKeys: RemoteKeyLookup;
  /**
   * Passes an event a remote server handed us (its join, leave or knock) on to the other
   * servers in the room: the federation sender's `sendEvent`.
   */
  readonly forward: (eventId: string, destinations: readonly string[]) => Promise<void>;
  /** Whether `userId` is a local user who exists (invites for unknown users are refused). */
  readonly localUserExists?: (userId: string) => Promise<boolean>;
  readonly logger: Logger;
  readonly clock?: () => number;
}
