// Test helper: a server's signed key document, as `GET /_matrix/key/v2/server` serves it.

import type { JsonObject } from '../rooms/json.ts';
import { signJson } from './signed-json.ts';
import type { SigningKey } from './signing-key.ts';

export interface KeyDocumentSpec {
  readonly serverName: string;
  readonly key: SigningKey;
  readonly validUntilTs: number;
  readonly oldKeys?: ReadonlyArray<{ readonly key: SigningKey; readonly expiredTs: number }>;
  /** Sign with this key instead (for bad self-signature tests). */
  readonly signWith?: SigningKey;
}

export function signedKeyDocument(spec: KeyDocumentSpec): JsonObject {
  const oldVerifyKeys: JsonObject = {};
  for (const old of spec.oldKeys ?? []) oldVerifyKeys[old.key.keyId] = { key: old.key.publicKeyBase64, expired_ts: old.expiredTs };
  return signJson(
    {
      server_name: spec.serverName,
      verify_keys: { [spec.key.keyId]: { key: spec.key.publicKeyBase64 } },
      old_verify_keys: oldVerifyKeys,
      valid_until_ts: spec.validUntilTs,
    },
    spec.serverName,
    spec.signWith ?? spec.key,
  );
}
