// The cache of remote servers' verify keys (server-server API § "Retrieving server keys").
// The keyring decides which keys to trust; this file only stores and finds them.

import type { Kysely, Selectable } from 'kysely';
import type { Database, ServerKeysTable } from '../../schema/database.ts';

export interface StoredServerKey {
  readonly serverName: string;
  /** `ed25519:abc` */
  readonly keyId: string;
  /** Unpadded base64 public key. */
  readonly publicKey: string;
  /** Set for keys listed in `verify_keys`: the response's `valid_until_ts`. */
  readonly validUntilTs: number | null;
  /** Set for keys listed in `old_verify_keys`. */
  readonly expiredTs: number | null;
  readonly fetchedTs: number;
  /** The signed key response the key came from, exactly as received. */
  readonly keyJson: string;
}

export class ServerKeysRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /**
   * Stores keys, replacing cached copies unless the cached copy was fetched later: two
   * fetches racing for one server must not let the older response overwrite the newer one.
   */
  async upsert(keys: readonly StoredServerKey[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#db
      .insertInto('server_keys')
      .values(
        keys.map((k) => ({
          server_name: k.serverName,
          key_id: k.keyId,
          public_key: k.publicKey,
          valid_until_ts: k.validUntilTs,
          expired_ts: k.expiredTs,
          fetched_ts: k.fetchedTs,
          key_json: k.keyJson,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['server_name', 'key_id'])
          .doUpdateSet((eb) => ({
            public_key: eb.ref('excluded.public_key'),
            valid_until_ts: eb.ref('excluded.valid_until_ts'),
            expired_ts: eb.ref('excluded.expired_ts'),
            fetched_ts: eb.ref('excluded.fetched_ts'),
            key_json: eb.ref('excluded.key_json'),
          }))
          .where('server_keys.fetched_ts', '<=', (eb) => eb.ref('excluded.fetched_ts')),
      )
      .execute();
  }

  async find(serverName: string, keyId: string): Promise<StoredServerKey | undefined> {
    const row = await this.#db
      .selectFrom('server_keys')
      .selectAll()
      .where('server_name', '=', serverName)
      .where('key_id', '=', keyId)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  /** Every cached key of one server, ordered by key id (for notary responses). */
  async findAllForServer(serverName: string): Promise<StoredServerKey[]> {
    const rows = await this.#db
      .selectFrom('server_keys')
      .selectAll()
      .where('server_name', '=', serverName)
      .orderBy('key_id')
      .execute();
    return rows.map(fromRow);
  }
}

function fromRow(row: Selectable<ServerKeysTable>): StoredServerKey {
  return {
    serverName: row.server_name,
    keyId: row.key_id,
    publicKey: row.public_key,
    validUntilTs: row.valid_until_ts,
    expiredTs: row.expired_ts,
    fetchedTs: row.fetched_ts,
    keyJson: row.key_json,
  };
}
