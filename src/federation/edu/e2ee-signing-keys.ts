// m.signing_key_update (server-server § "End-to-End Encryption"): a remote user's new master
// or self-signing key. We keep the latest of each (clients verify the signatures; a server
// relays), and tell the local users sharing a room with them through the device-list stream,
// which is how the client-server API announces cross-signing changes too.
// User-signing keys never leave their owner's server, so they are not taken from here.

import type { Logger } from '../../logger.ts';
import { getField, isJsonObject, type JsonValue } from '../../rooms/json.ts';
import type { E2eeKeysRepository } from '../../storage/e2ee-keys-repository.ts';
import type { EduHandler, ReceivedEdu } from '../server/edus.ts';
import type { RemoteUserWatchers } from './e2ee-watchers.ts';

export type RemoteCrossSigningKeyType = 'master' | 'self_signing';

export interface ParsedCrossSigningKey {
  readonly keyType: RemoteCrossSigningKeyType;
  /** The unpadded base64 ed25519 key, as the key ID names it. */
  readonly publicKey: string;
  readonly keyJson: string;
}

/**
 * A remote user's cross-signing key (client-server `cross_signing_key.yaml`) if it is one:
 * owned by `userId`, with `usage` naming `keyType`, and exactly one ed25519 key whose ID is
 * the key itself.
 */
export function parseRemoteCrossSigningKey(value: JsonValue | undefined, userId: string, keyType: RemoteCrossSigningKeyType): ParsedCrossSigningKey | undefined {
  if (!isJsonObject(value) || getField(value, 'user_id') !== userId) return undefined;
  const usage = getField(value, 'usage');
  if (!Array.isArray(usage) || !usage.includes(keyType)) return undefined;
  const keys = getField(value, 'keys');
  if (!isJsonObject(keys)) return undefined;
  const entries = Object.entries(keys);
  if (entries.length !== 1) return undefined;
  const [keyId, publicKey] = entries[0]!;
  if (typeof publicKey !== 'string' || keyId !== `ed25519:${publicKey}` || publicKey === '') return undefined;
  return { keyType, publicKey, keyJson: JSON.stringify(value) };
}

export class SigningKeyUpdateEduHandler implements EduHandler {
  readonly #keys: Pick<E2eeKeysRepository, 'setCrossSigningKeys'>;
  readonly #watchers: Pick<RemoteUserWatchers, 'of' | 'announce'>;
  readonly #logger: Logger;
  readonly #clock: () => number;

  constructor(deps: {
    readonly keys: Pick<E2eeKeysRepository, 'setCrossSigningKeys'>;
    readonly watchers: Pick<RemoteUserWatchers, 'of' | 'announce'>;
    readonly logger: Logger;
    readonly clock: () => number;
  }) {
    this.#keys = deps.keys;
    this.#watchers = deps.watchers;
    this.#logger = deps.logger;
    this.#clock = deps.clock;
  }

  async handle(edu: ReceivedEdu): Promise<void> {
    // The dispatcher has checked that user_id is a user of the origin.
    const userId = getField(edu.content, 'user_id');
    if (typeof userId !== 'string') return;
    const parsed: ParsedCrossSigningKey[] = [];
    for (const [field, keyType] of [['master_key', 'master'], ['self_signing_key', 'self_signing']] as const) {
      const value = getField(edu.content, field);
      if (value === undefined) continue;
      const key = parseRemoteCrossSigningKey(value, userId, keyType);
      if (key === undefined) {
        this.#logger.info({ origin: edu.origin, user_id: userId, field }, 'm.signing_key_update ignored: malformed key');
        return;
      }
      parsed.push(key);
    }
    if (parsed.length === 0) return;
    if ((await this.#watchers.of(userId)).length === 0) {
      this.#logger.debug({ origin: edu.origin, user_id: userId }, 'm.signing_key_update ignored: no local user shares a room');
      return;
    }
    await this.#keys.setCrossSigningKeys(userId, parsed, this.#clock());
    await this.#watchers.announce(userId);
  }
}
