// Signature checks of the pipeline (check 2, and the signature questions the auth rules
// ask). Keys are looked up asynchronously first, then the synchronous crypto checks run
// against what was found: the local key is known, remote keys come from the injected lookup.

import { checkEventSignatures, requiredSignersOf } from '../crypto/event-signing.ts';
import { isSupportedKeyId, signaturesOf, verifyJsonSignature } from '../crypto/signed-json.ts';
import type { SigningKey } from '../crypto/signing-key.ts';
import { tryDecodeBase64 } from '../rooms/base64.ts';
import type { SignatureVerdict } from '../rooms/checks-on-receipt.ts';
import type { EventView } from '../rooms/event-view.ts';
import { serverNameOf } from '../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject } from '../rooms/json.ts';
import type { RoomVersionRules } from '../rooms/room-versions.ts';
import type { RemoteKeyLookup } from './ports.ts';

export class SignatureChecker {
  readonly #serverName: string;
  readonly #signingKey: SigningKey;
  readonly #remote: RemoteKeyLookup | undefined;
  /** `server\u0000keyId` → key, for the keys looked up by `prefetch`. */
  readonly #keys = new Map<string, Uint8Array>();

  constructor(serverName: string, signingKey: SigningKey, remote: RemoteKeyLookup | undefined) {
    this.#serverName = serverName;
    this.#signingKey = signingKey;
    this.#remote = remote;
    // Known without a lookup: local events (a restricted join this server authorises) are
    // never prefetched, yet the auth rules ask whether they carry this server's signature.
    this.#keys.set(`${serverName}\u0000${signingKey.keyId}`, signingKey.publicKey);
  }

  /** Looks up the keys of `servers` that `event` is signed with. */
  async prefetch(event: JsonObject, rules: RoomVersionRules, servers: readonly string[]): Promise<void> {
    const ts = getField(event, 'origin_server_ts');
    const validAt = rules.signatures.enforceKeyValidity && typeof ts === 'number' ? ts : undefined;
    for (const server of servers) {
      for (const keyId of Object.keys(signaturesOf(event, server))) {
        const cacheKey = `${server}\u0000${keyId}`;
        if (!isSupportedKeyId(keyId) || this.#keys.has(cacheKey)) continue;
        const key = await this.#lookup(server, keyId, validAt);
        if (key !== undefined) this.#keys.set(cacheKey, key);
      }
    }
  }

  async #lookup(server: string, keyId: string, validAt: number | undefined): Promise<Uint8Array | undefined> {
    if (server === this.#serverName) {
      return keyId === this.#signingKey.keyId ? this.#signingKey.publicKey : undefined;
    }
    return this.#remote?.verifyKey(server, keyId, validAt);
  }

  /** Check 2 for a received event, after its keys were prefetched. */
  async verdict(event: JsonObject, rules: RoomVersionRules): Promise<SignatureVerdict> {
    const servers = requiredSignersOf(event, rules);
    await this.prefetch(event, rules, [...servers, ...authorisingServers(event)]);
    const result = checkEventSignatures(event, rules, (server, keyId) => this.#keys.get(`${server}\u0000${keyId}`), servers);
    if (result.ok) return { valid: true };
    return { valid: false, reason: `signature of ${result.server || 'the sender'}: ${result.reason}` };
  }

  /** For the auth rules: whether `event` carries a valid signature of `serverName`. */
  isSignedBy(rules: RoomVersionRules): (event: EventView, serverName: string) => boolean {
    return (event, serverName) =>
      checkEventSignatures(event.raw, rules, (server, keyId) => this.#keys.get(`${server}\u0000${keyId}`), [serverName]).ok;
  }
}

/** The server of `join_authorised_via_users_server`, whose signature a restricted join needs. */
function authorisingServers(event: JsonObject): string[] {
  const content = getField(event, 'content');
  if (!isJsonObject(content)) return [];
  const via = getField(content, 'join_authorised_via_users_server');
  const server = typeof via === 'string' ? serverNameOf(via) : undefined;
  return server === undefined ? [] : [server];
}

/**
 * A third-party invite's `signed` block verifies under `publicKeyBase64` when any of its
 * signatures does (the key's owner is whoever holds it; the block names no key ID we know).
 */
export function verifyThirdPartySignature(signed: unknown, publicKeyBase64: string): boolean {
  if (!isJsonObject(signed)) return false;
  const key = tryDecodeBase64(publicKeyBase64.replace(/-/g, '+').replace(/_/g, '/'));
  if (key === undefined) return false;
  const signatures = getField(signed, 'signatures');
  if (!isJsonObject(signatures)) return false;
  for (const entity of Object.keys(signatures)) {
    for (const keyId of Object.keys(signaturesOf(signed, entity))) {
      if (verifyJsonSignature(signed, entity, keyId, key)) return true;
    }
  }
  return false;
}
