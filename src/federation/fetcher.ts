// The roomserver's FederationFetcher port over the signed federation client: GET /event and
// POST /get_missing_events (server-server § "Retrieving events", "Backfilling and retrieving
// missing events"). Answers are only shaped here; every PDU still goes through the
// roomserver's checks on receipt. Servers outside `federation.allow`/`deny` are not asked.

import type { FederationFetcher } from '../roomserver/index.ts';
import { getField, isJsonObject, type JsonObject } from '../rooms/json.ts';
import type { FederationAllowList } from './policy/federation-allow-list.ts';

export interface FetchTransport {
  get(destination: string, path: string, query?: Readonly<Record<string, string | readonly string[]>>): Promise<JsonObject>;
  post(destination: string, path: string, body: JsonObject): Promise<JsonObject>;
}

export class ClientFederationFetcher implements FederationFetcher {
  readonly #transport: FetchTransport;
  readonly #allowList: FederationAllowList;

  constructor(transport: FetchTransport, allowList: FederationAllowList) {
    this.#transport = transport;
    this.#allowList = allowList;
  }

  async fetchEvent(destination: string, eventId: string): Promise<JsonObject | undefined> {
    if (!this.#allowList.isAllowed(destination)) return undefined;
    const response = await this.#transport.get(destination, `/_matrix/federation/v1/event/${encodeURIComponent(eventId)}`);
    const pdus = getField(response, 'pdus');
    const pdu = Array.isArray(pdus) ? pdus[0] : undefined;
    return pdu !== undefined && isJsonObject(pdu) ? pdu : undefined;
  }

  async getMissingEvents(
    destination: string,
    roomId: string,
    earliest: readonly string[],
    latest: readonly string[],
    limit: number,
  ): Promise<JsonObject[]> {
    if (!this.#allowList.isAllowed(destination)) return [];
    const response = await this.#transport.post(destination, `/_matrix/federation/v1/get_missing_events/${encodeURIComponent(roomId)}`, {
      earliest_events: [...earliest],
      latest_events: [...latest],
      limit,
      min_depth: 0,
    });
    const events = getField(response, 'events');
    return Array.isArray(events) ? events.filter(isJsonObject).slice(0, limit) : [];
  }

  async backfill(destination: string, roomId: string, from: readonly string[], limit: number): Promise<JsonObject[]> {
    if (!this.#allowList.isAllowed(destination)) return [];
    const response = await this.#transport.get(destination, `/_matrix/federation/v1/backfill/${encodeURIComponent(roomId)}`, {
      v: [...from],
      limit: String(limit),
    });
    const pdus = getField(response, 'pdus');
    return Array.isArray(pdus) ? pdus.filter(isJsonObject).slice(0, limit) : [];
  }

  async stateIds(destination: string, roomId: string, eventId: string): Promise<{ stateIds: string[]; authChainIds: string[] } | undefined> {
    if (!this.#allowList.isAllowed(destination)) return undefined;
    const response = await this.#transport.get(destination, `/_matrix/federation/v1/state_ids/${encodeURIComponent(roomId)}`, { event_id: eventId });
    const pduIds = getField(response, 'pdu_ids');
    const authIds = getField(response, 'auth_chain_ids');
    if (!Array.isArray(pduIds)) return undefined;
    const strings = (list: unknown): string[] => (Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []);
    return { stateIds: strings(pduIds), authChainIds: strings(authIds) };
  }
}
