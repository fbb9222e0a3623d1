// Ed25519 over node:crypto (OpenSSL). Matrix keys travel as raw 32-byte seeds and public
// keys; OpenSSL takes DER, so each is wrapped in the fixed PKCS#8 / SPKI prefix for the
// Ed25519 OID (RFC 8410). Building a KeyObject costs more than a verify, so public keys
// are cached: a busy server verifies with the same few hundred keys over and over.

import { Buffer } from 'node:buffer';
import { createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export const ED25519_SEED_LENGTH = 32;
export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

// RFC 8410 §7: SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING seed } }
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// RFC 8410 §4: SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING publicKey }
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class Ed25519KeyError extends Error {
  override name = 'Ed25519KeyError';
}

export interface Ed25519KeyPair {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  sign(data: Uint8Array): Uint8Array;
}

function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== ED25519_SEED_LENGTH) {
    throw new Ed25519KeyError(`an ed25519 seed is ${ED25519_SEED_LENGTH} bytes`);
  }
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function ed25519KeyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
  const privateKey = privateKeyFromSeed(seed);
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  const ownSeed = new Uint8Array(seed);
  return {
    seed: ownSeed,
    publicKey,
    sign(data: Uint8Array): Uint8Array {
      return new Uint8Array(sign(null, data, privateKey));
    },
  };
}

/** A fresh random seed (the only source of randomness in key generation). */
export function generateEd25519Seed(): Uint8Array {
  return new Uint8Array(randomBytes(ED25519_SEED_LENGTH));
}

// Bounded cache of public KeyObjects, keyed by the raw key in hex. A Map iterates in
// insertion order, so deleting the oldest entry on overflow keeps it bounded (FIFO with a
// refresh on hit, i.e. LRU).
const PUBLIC_KEY_CACHE_LIMIT = 4096;
const publicKeyCache = new Map<string, KeyObject | null>();

function publicKeyObject(publicKey: Uint8Array): KeyObject | null {
  const cacheKey = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex');
  const cached = publicKeyCache.get(cacheKey);
  if (cached !== undefined) {
    publicKeyCache.delete(cacheKey);
    publicKeyCache.set(cacheKey, cached);
    return cached;
  }
  let keyObject: KeyObject | null;
  try {
    keyObject = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  } catch {
    // Not a point on the curve: remember that too, so a hostile peer cannot make us redo it.
    keyObject = null;
  }
  publicKeyCache.set(cacheKey, keyObject);
  if (publicKeyCache.size > PUBLIC_KEY_CACHE_LIMIT) {
    const oldest = publicKeyCache.keys().next();
    if (!oldest.done) publicKeyCache.delete(oldest.value);
  }
  return keyObject;
}

/** Verify an ed25519 signature. Never throws: malformed keys or signatures are `false`. */
export function ed25519Verify(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_LENGTH) return false;
  if (!(data instanceof Uint8Array)) return false;
  const key = publicKeyObject(publicKey);
  if (key === null) return false;
  try {
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}
