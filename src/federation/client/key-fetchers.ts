// The keyring's network fetchers (server-server § "Retrieving server keys"): the origin's
// own `GET /_matrix/key/v2/server`, and a trusted notary's `POST /_matrix/key/v2/query`
// whose answers must carry the notary's signature under a key the operator configured.

import type { KeyFetcher, KeyQuery } from '../../crypto/keyring.ts';
import { checkNotarySignature, KeyResponseError, parseServerKeyDocument } from '../../crypto/server-key-response.ts';
import type { ServerKeyDocument } from '../../crypto/server-key-response.ts';
import type { StoaConfig } from '../../config/types.ts';
import { tryDecodeBase64 } from '../../rooms/base64.ts';
import { getField, isJsonObject } from '../../rooms/json.ts';
import type { JsonObject } from '../../rooms/json.ts';

/** What the fetchers need from `FederationClient`. */
export interface KeyTransport {
  get(destination: string, path: string): Promise<JsonObject>;
  post(destination: string, path: string, body: JsonObject): Promise<JsonObject>;
}

export class OriginKeyFetcher implements KeyFetcher {
  readonly name = 'origin';
  readonly source = 'origin';
  readonly #transport: KeyTransport;

  constructor(transport: KeyTransport) {
    this.#transport = transport;
  }

  async fetch(query: KeyQuery): Promise<ServerKeyDocument[]> {
    const response = await this.#transport.get(query.serverName, '/_matrix/key/v2/server');
    return [parseServerKeyDocument(response, query.serverName)];
  }
}

export class NotaryKeyFetcher implements KeyFetcher {
  readonly name: string;
  readonly source = 'notary';
  readonly #transport: KeyTransport;
  readonly #notary: string;
  readonly #notaryKeys: ReadonlyMap<string, Uint8Array>;

  /** `notaryKeys`: keyId → raw ed25519 public key; without one, no answer can be trusted. */
  constructor(transport: KeyTransport, notary: string, notaryKeys: ReadonlyMap<string, Uint8Array>) {
    if (notaryKeys.size === 0) throw new Error(`notary ${notary} needs at least one configured verify key`);
    this.name = `notary ${notary}`;
    this.#transport = transport;
    this.#notary = notary;
    this.#notaryKeys = notaryKeys;
  }

  async fetch(query: KeyQuery): Promise<ServerKeyDocument[]> {
    const criteria: JsonObject = {};
    for (const keyId of query.keyIds) criteria[keyId] = { minimum_valid_until_ts: query.minimumValidUntilTs };
    const response = await this.#transport.post(this.#notary, '/_matrix/key/v2/query', {
      server_keys: { [query.serverName]: criteria },
    });
    const list = getField(response, 'server_keys');
    if (!Array.isArray(list)) throw new KeyResponseError(`notary ${this.#notary}: server_keys is not an array`);
    const documents: ServerKeyDocument[] = [];
    for (const item of list) {
      // Notaries may return documents for servers not asked about; those are ignored.
      if (!isJsonObject(item) || getField(item, 'server_name') !== query.serverName) continue;
      checkNotarySignature(item, this.#notary, this.#notaryKeys);
      documents.push(parseServerKeyDocument(item, query.serverName));
    }
    return documents;
  }
}

export interface NotaryConfigProblem {
  readonly notary: string;
  readonly problem: string;
}

/**
 * One fetcher per `federation.trusted_key_servers` entry. Entries without usable
 * `verify_keys` are left out and reported: trusting whatever a notary signs with would make
 * the notary's TLS certificate the only thing between us and forged keys.
 */
export function notaryFetchersFromConfig(
  transport: KeyTransport,
  trusted: StoaConfig['federation']['trusted_key_servers'],
): { fetchers: NotaryKeyFetcher[]; problems: NotaryConfigProblem[] } {
  const fetchers: NotaryKeyFetcher[] = [];
  const problems: NotaryConfigProblem[] = [];
  for (const entry of trusted) {
    const keys = new Map<string, Uint8Array>();
    for (const [keyId, base64] of Object.entries(entry.verify_keys ?? {})) {
      const bytes = tryDecodeBase64(base64);
      if (keyId.startsWith('ed25519:') && bytes !== undefined && bytes.length === 32) keys.set(keyId, bytes);
      else problems.push({ notary: entry.server_name, problem: `verify key ${keyId} is not an ed25519 public key` });
    }
    if (keys.size === 0) {
      problems.push({ notary: entry.server_name, problem: 'no verify_keys configured; the notary is not used' });
      continue;
    }
    fetchers.push(new NotaryKeyFetcher(transport, entry.server_name, keys));
  }
  return { fetchers, problems };
}
