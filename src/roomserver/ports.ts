// Interfaces the roomserver is given rather than imports: the network reaches it only
// through these (DESIGN.md dependency direction). The federation layer implements them.

import type { JsonObject } from '../rooms/json.ts';

/** Remote servers' verify keys (the keyring: cache → notary → origin). */
export interface RemoteKeyLookup {
  /**
   * The ed25519 public key `serverName` published as `keyId`, usable for an event sent at
   * `validAt` (ms; undefined when the room version does not enforce key validity), or
   * undefined when it cannot be found.
   */
  verifyKey(serverName: string, keyId: string, validAt: number | undefined): Promise<Uint8Array | undefined>;
}

/** Fetching events the roomserver does not have (server-server API). */
export interface FederationFetcher {
  /** GET /_matrix/federation/v1/event/{eventId} from `destination`: the PDU, or undefined. */
  fetchEvent(destination: string, eventId: string): Promise<JsonObject | undefined>;
  /**
   * POST /_matrix/federation/v1/get_missing_events/{roomId}: events between `earliest` (what
   * we have) and `latest` (what we received), at most `limit`, in any order.
   */
  getMissingEvents(
    destination: string,
    roomId: string,
    earliest: readonly string[],
    latest: readonly string[],
    limit: number,
  ): Promise<JsonObject[]>;
  /**
   * GET /_matrix/federation/v1/backfill/{roomId}: up to `limit` events from `from` (events we
   * lack) backwards, `from` included, in any order.
   */
  backfill?(destination: string, roomId: string, from: readonly string[], limit: number): Promise<JsonObject[]>;
  /** GET /_matrix/federation/v1/state_ids/{roomId}?event_id=: the state before the event, as IDs. */
  stateIds?(destination: string, roomId: string, eventId: string): Promise<{ stateIds: string[]; authChainIds: string[] } | undefined>;
}

export interface RoomserverLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
