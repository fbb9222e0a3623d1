// The room directory's questions to other servers (server-server § "Public Room Directory",
// § "Spaces"): their published rooms for a client's `/publicRooms?server=`, and the spaces
// and rooms this server is not in for the hierarchy walk and room summaries. Matches the
// client API's `RemoteRoomDirectory` port.

import { MatrixError } from '../../http/matrix-error.ts';
import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { spaceChildrenFromStripped, type SpaceChild } from '../../roomserver/directory/space-children.ts';
import { parseRoomSummary, type RoomSummary } from '../../roomserver/directory/summary.ts';
import { FederationRequestError, RemoteMatrixError } from '../client/errors.ts';
import type { FederationClient } from '../client/federation-client.ts';

/** Servers tried per room before giving up on it (Synapse tries a few). */
const MAX_VIA = 3;
const TIMEOUT_MS = 15_000;

export interface RemotePublicRoomsQuery {
  readonly limit?: number;
  readonly since?: string;
  readonly filter?: JsonObject;
  readonly includeAllNetworks?: boolean;
  readonly thirdPartyInstanceId?: string;
}

export interface RemoteRoomEntry {
  readonly summary: RoomSummary;
  readonly children: readonly SpaceChild[] | undefined;
}

export interface RemoteSpaceAnswer {
  readonly room: RemoteRoomEntry;
  readonly children: readonly RemoteRoomEntry[];
  readonly inaccessibleChildren: readonly string[];
}

export interface RemoteRoomDirectoryOptions {
  readonly client: Pick<FederationClient, 'request'>;
  readonly serverName: string;
  /** The operator's federation allow/deny lists. */
  readonly isAllowed: (serverName: string) => boolean;
}

export class FederationRoomDirectory {
  readonly #client: Pick<FederationClient, 'request'>;
  readonly #serverName: string;
  readonly #isAllowed: (serverName: string) => boolean;

  constructor(options: RemoteRoomDirectoryOptions) {
    this.#client = options.client;
    this.#serverName = options.serverName;
    this.#isAllowed = options.isAllowed;
  }

  /**
   * The server's directory page as it answered (public_rooms_response.yaml), chunks that are
   * not objects dropped. A server we cannot ask is 502 M_UNKNOWN; a Matrix error it answered
   * with is passed on when it is the client's to fix (4xx), else 502.
   */
  async publicRooms(server: string, method: 'GET' | 'POST', request: RemotePublicRoomsQuery): Promise<JsonObject> {
    if (!this.#isAllowed(server)) throw new MatrixError(403, 'M_FORBIDDEN', `Federation with ${server} is not allowed`);
    const path = '/_matrix/federation/v1/publicRooms';
    let answer: JsonObject;
    try {
      if (method === 'GET') {
        const query: Record<string, string | number | boolean> = {};
        if (request.limit !== undefined) query['limit'] = request.limit;
        if (request.since !== undefined) query['since'] = request.since;
        if (request.includeAllNetworks !== undefined) query['include_all_networks'] = request.includeAllNetworks;
        if (request.thirdPartyInstanceId !== undefined) query['third_party_instance_id'] = request.thirdPartyInstanceId;
        answer = await this.#client.request(server, { method: 'GET', path, query, timeoutMs: TIMEOUT_MS });
      } else {
        const body: JsonObject = {};
        if (request.limit !== undefined) body['limit'] = request.limit;
        if (request.since !== undefined) body['since'] = request.since;
        if (request.filter !== undefined) body['filter'] = request.filter;
        if (request.includeAllNetworks !== undefined) body['include_all_networks'] = request.includeAllNetworks;
        if (request.thirdPartyInstanceId !== undefined) body['third_party_instance_id'] = request.thirdPartyInstanceId;
        answer = await this.#client.request(server, { method: 'POST', path, body, timeoutMs: TIMEOUT_MS });
      }
    } catch (err) {
      if (err instanceof RemoteMatrixError && err.status >= 400 && err.status < 500 && err.errcode !== undefined && err.status !== 401) {
        throw new MatrixError(err.status, err.errcode, `${server}: ${String(getField(err.body ?? {}, 'error') ?? 'request refused')}`);
      }
      if (err instanceof FederationRequestError) throw new MatrixError(502, 'M_UNKNOWN', `Could not get the room directory of ${server}: ${err.message}`);
      throw err;
    }
    const chunk = getField(answer, 'chunk');
    const out: JsonObject = { ...answer, chunk: Array.isArray(chunk) ? chunk.filter(isJsonObject) : [] };
    for (const key of ['next_batch', 'prev_batch'] as const) if (typeof out[key] !== 'string') delete out[key];
    if (typeof out['total_room_count_estimate'] !== 'number') delete out['total_room_count_estimate'];
    return out;
  }

  /** The first of `via` (up to MAX_VIA, ours and disallowed ones skipped) that describes the room. */
  async hierarchy(roomId: string, via: readonly string[], suggestedOnly: boolean): Promise<RemoteSpaceAnswer | undefined> {
    const servers = [...new Set(via)].filter((server) => server !== this.#serverName && this.#isAllowed(server)).slice(0, MAX_VIA);
    for (const server of servers) {
      let answer: JsonObject;
      try {
        answer = await this.#client.request(server, {
          method: 'GET',
          path: `/_matrix/federation/v1/hierarchy/${encodeURIComponent(roomId)}`,
          query: { suggested_only: suggestedOnly },
          timeoutMs: TIMEOUT_MS,
        });
      } catch (err) {
        if (err instanceof FederationRequestError) continue;
        throw err;
      }
      const room = entryOf(getField(answer, 'room'));
      if (room === undefined || room.summary.roomId !== roomId) continue;
      const children = getField(answer, 'children');
      const inaccessible = getField(answer, 'inaccessible_children');
      return {
        room,
        children: Array.isArray(children) ? children.map(entryOf).filter((entry) => entry !== undefined) : [],
        inaccessibleChildren: Array.isArray(inaccessible) ? inaccessible.filter((id): id is string => typeof id === 'string') : [],
      };
    }
    return undefined;
  }
}

function entryOf(json: JsonObject[keyof JsonObject] | undefined): RemoteRoomEntry | undefined {
  const summary = parseRoomSummary(json);
  if (summary === undefined || !isJsonObject(json)) return undefined;
  const state = getField(json, 'children_state');
  return { summary, children: Array.isArray(state) ? spaceChildrenFromStripped(state) : undefined };
}
