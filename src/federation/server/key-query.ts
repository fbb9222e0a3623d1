// The notary endpoints (server-server § "Querying Keys Through Another Server",
// data/api/server-server/keys_query.yaml): other servers' key documents, as their servers
// signed them, with our signature added. Keys come from the keyring: the cache when it
// covers the asked validity, else the server itself — never other notaries, so two
// notaries cannot send a question round in circles. A server we cannot reach and hold
// nothing for is simply absent from the answer.

import type { Keyring } from '../../crypto/keyring.ts';
import { signJson } from '../../crypto/signed-json.ts';
import { defineEndpoint, jsonBody, type Endpoint } from '../../http/define-endpoint.ts';
import { invalidParam } from '../../http/matrix-error.ts';
import { JsonParseError, parseJsonStrict } from '../../rooms/canonical-json.ts';
import { isValidServerName } from '../../rooms/identifiers.ts';
import { getField, isJsonObject } from '../../rooms/json.ts';
import type { JsonObject } from '../../rooms/json.ts';
import { serverKeysDocument, type KeyServerDeps } from './key-server.ts';

/** More servers than this in one POST is refused: each may cost an outbound request. */
export const MAX_SERVERS_PER_QUERY = 100;

export interface KeyQueryDeps extends KeyServerDeps {
  readonly keyring: Pick<Keyring, 'getKeyDocuments'>;
}

interface ServerCriteria {
  readonly keyIds: readonly string[];
  readonly minimumValidUntilTs: number;
}

interface BulkQueryBody extends JsonObject {
  server_keys: Record<string, Record<string, { minimum_valid_until_ts?: number }>>;
}

const bulkQuerySchema = {
  type: 'object',
  required: ['server_keys'],
  properties: {
    server_keys: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          properties: { minimum_valid_until_ts: { type: 'integer' } },
        },
      },
    },
  },
};

/** The documents for one server, each with our signature added. */
async function notarisedDocuments(deps: KeyQueryDeps, serverName: string, criteria: ServerCriteria, nowMs: number): Promise<JsonObject[]> {
  const ourName = deps.config.server_name;
  if (serverName === ourName) return [serverKeysDocument(deps, nowMs)];
  if (!isValidServerName(serverName)) return [];
  const texts = await deps.keyring.getKeyDocuments(serverName, {
    keyIds: criteria.keyIds,
    minimumValidUntilTs: criteria.minimumValidUntilTs,
    sources: 'origin',
  });
  const documents: JsonObject[] = [];
  for (const text of texts) {
    let document;
    try {
      document = parseJsonStrict(text);
    } catch (error) {
      if (error instanceof JsonParseError) continue; // a damaged cache row is not worth a 500
      throw error;
    }
    if (isJsonObject(document)) documents.push(signJson(document, ourName, deps.signingKey));
  }
  return documents;
}

function minimumFromQuery(query: URLSearchParams, nowMs: number): number {
  const raw = query.get('minimum_valid_until_ts');
  if (raw === null) return nowMs;
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw invalidParam('minimum_valid_until_ts must be a non-negative integer');
  }
  return Number(raw);
}

export function keyQueryEndpoints(deps: KeyQueryDeps): Endpoint[] {
  const now = deps.now ?? Date.now;
  return [
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/key/v2/query/:serverName',
      auth: 'none',
      operationId: 'perspectivesKeyQuery',
      handler: async ({ params, query }) => {
        const nowMs = now();
        const serverName = params['serverName'] ?? '';
        const criteria = { keyIds: [], minimumValidUntilTs: minimumFromQuery(query, nowMs) };
        return { server_keys: await notarisedDocuments(deps, serverName, criteria, nowMs) };
      },
    }),
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/key/v2/query',
      auth: 'none',
      operationId: 'bulkPerspectivesKeyQuery',
      body: jsonBody<BulkQueryBody>(bulkQuerySchema),
      handler: async ({ body }) => {
        const nowMs = now();
        const servers = Object.entries(body.server_keys);
        if (servers.length > MAX_SERVERS_PER_QUERY) {
          throw invalidParam(`at most ${MAX_SERVERS_PER_QUERY} servers may be queried at once`);
        }
        const results = await Promise.all(
          servers.map(([serverName, keys]) => {
            const keyIds = Object.keys(keys);
            // "If not supplied, the notary server MUST use the current time."
            const minimums = Object.values(keys).map((criteria) => getMinimum(criteria, nowMs));
            const minimumValidUntilTs = minimums.length === 0 ? nowMs : Math.max(...minimums);
            return notarisedDocuments(deps, serverName, { keyIds, minimumValidUntilTs }, nowMs);
          }),
        );
        return { server_keys: results.flat() };
      },
    }),
  ];
}

function getMinimum(criteria: JsonObject, nowMs: number): number {
  const value = getField(criteria, 'minimum_valid_until_ts');
  return typeof value === 'number' ? value : nowMs;
}
