// The real identifiers a fuzz run knows about: generated requests use them where the spec
// asks for a room, user, event, … so that requests get past the first lookup and reach the
// deep code paths, and mutations are then applied around them.

export interface FuzzIdentities {
  /** The node's server name. */
  readonly serverName: string;
  /** The fuzzing user (owns `accessToken`), joined to `roomId`. */
  readonly userId: string;
  readonly accessToken: string;
  readonly deviceId: string;
  /** A second local user, also in `roomId`. */
  readonly otherUserId: string;
  /** A room the fuzzing user created, with a message in it. */
  readonly roomId: string;
  readonly roomAlias: string;
  /** A message event in `roomId`. */
  readonly eventId: string;
  /** The fake remote server whose key the node can fetch (signs federation requests). */
  readonly remoteServerName: string;
}

/** Identifier-ish names the spec uses for path, query and body fields, and what to put there. */
export function identityFor(name: string, ids: FuzzIdentities): string | undefined {
  switch (name) {
    case 'roomId':
    case 'room_id':
      return ids.roomId;
    case 'roomIdOrAlias':
      return ids.roomId;
    case 'roomAlias':
    case 'room_alias':
    case 'alias':
      return ids.roomAlias;
    case 'userId':
    case 'user_id':
    case 'sender':
    case 'state_key_user':
      return ids.userId;
    case 'eventId':
    case 'event_id':
    case 'redacts':
      return ids.eventId;
    case 'serverName':
    case 'server_name':
    case 'server':
    case 'via':
      return ids.serverName;
    case 'origin':
      return ids.remoteServerName;
    case 'deviceId':
    case 'device_id':
      return ids.deviceId;
    default:
      return undefined;
  }
}
