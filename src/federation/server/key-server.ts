// GET /_matrix/key/v2/server (server-server § "Publishing Keys",
// data/api/server-server/keys_server.yaml): our current verify key, the keys we used to
// sign with (`old_verify_keys`, valid for events only), and how long peers may cache the
// answer, all signed with the current key so a notary can pass the response on verbatim.

import type { StoaConfig } from '../../config/types.ts';
import { signJson } from '../../crypto/signed-json.ts';
import type { SigningKey } from '../../crypto/signing-key.ts';
import { defineEndpoint, type Endpoint } from '../../http/define-endpoint.ts';
import type { JsonObject } from '../../rooms/json.ts';

export interface KeyServerDeps {
  readonly config: Pick<StoaConfig, 'server_name' | 'old_signing_keys' | 'key_valid_for_ms'>;
  readonly signingKey: SigningKey;
  /** Milliseconds since the epoch; injectable so tests can fix the clock. */
  readonly now?: () => number;
}

/** The signed key document as of `nowMs`. */
export function serverKeysDocument(deps: KeyServerDeps, nowMs: number): JsonObject {
  const { config, signingKey } = deps;
  const oldVerifyKeys: JsonObject = {};
  for (const old of config.old_signing_keys) {
    // A key cannot be both current and expired; the current one wins.
    if (old.key_id === signingKey.keyId) continue;
    oldVerifyKeys[old.key_id] = { key: old.public_key, expired_ts: old.expired_ts };
  }
  const document: JsonObject = {
    server_name: config.server_name,
    verify_keys: { [signingKey.keyId]: { key: signingKey.publicKeyBase64 } },
    old_verify_keys: oldVerifyKeys,
    valid_until_ts: nowMs + config.key_valid_for_ms,
  };
  return signJson(document, config.server_name, signingKey);
}

export function keyServerEndpoints(deps: KeyServerDeps): Endpoint[] {
  const now = deps.now ?? Date.now;
  const handler = (): JsonObject => serverKeysDocument(deps, now());
  return [
    defineEndpoint({ method: 'GET', path: '/_matrix/key/v2/server', auth: 'none', operationId: 'getServerKey', handler }),
    // The `{keyId}` form was removed from the spec, but older servers still ask it; the
    // key ID was always advisory, so the answer is the whole document.
    defineEndpoint({ method: 'GET', path: '/_matrix/key/v2/server/:keyId', auth: 'none', handler }),
  ];
}
