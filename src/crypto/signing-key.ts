// A server's ed25519 signing key and Synapse's key-file format, so an operator can move a
// signing key between Synapse and Stoa: one key per line, `ed25519 <version> <seed>`, the
// seed in unpadded Base64. The version is what follows `ed25519:` in the key ID; its
// characters must match `[a-zA-Z0-9_]` (data/api/server-server/definitions/keys.yaml).

import { randomInt } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Base64Error, decodeBase64, encodeBase64 } from '../rooms/base64.ts';
import { ED25519_SEED_LENGTH, ed25519KeyPairFromSeed, generateEd25519Seed } from './ed25519.ts';

export interface SigningKey {
  readonly algorithm: 'ed25519';
  readonly version: string;
  /** `ed25519:<version>` */
  readonly keyId: string;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly publicKeyBase64: string;
  sign(data: Uint8Array): Uint8Array;
}

export class SigningKeyFileError extends Error {
  override name = 'SigningKeyFileError';
}

const KEY_VERSION = /^[a-zA-Z0-9_]+$/;

export function isValidKeyVersion(version: string): boolean {
  return KEY_VERSION.test(version);
}

export function signingKeyFromSeed(version: string, seed: Uint8Array): SigningKey {
  if (!isValidKeyVersion(version)) {
    throw new SigningKeyFileError(`key version ${JSON.stringify(version)} must match [a-zA-Z0-9_]+`);
  }
  const pair = ed25519KeyPairFromSeed(seed);
  return {
    algorithm: 'ed25519',
    version,
    keyId: `ed25519:${version}`,
    seed: pair.seed,
    publicKey: pair.publicKey,
    publicKeyBase64: encodeBase64(pair.publicKey),
    sign: (data) => pair.sign(data),
  };
}

/** Parse a Synapse-format signing key file. Blank lines and `#` comments are skipped. */
export function parseSigningKeyFile(text: string): SigningKey[] {
  const keys: SigningKey[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `signing key file line ${i + 1}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 3) {
      throw new SigningKeyFileError(`${where}: expected "ed25519 <version> <base64 seed>"`);
    }
    const [algorithm, version, seedBase64] = fields as [string, string, string];
    if (algorithm !== 'ed25519') {
      throw new SigningKeyFileError(`${where}: unsupported algorithm ${JSON.stringify(algorithm)}`);
    }
    if (!isValidKeyVersion(version)) {
      throw new SigningKeyFileError(`${where}: key version must match [a-zA-Z0-9_]+`);
    }
    let seed: Uint8Array;
    try {
      seed = decodeBase64(seedBase64);
    } catch (error) {
      if (!(error instanceof Base64Error)) throw error;
      throw new SigningKeyFileError(`${where}: the seed is not valid Base64 (${error.message})`);
    }
    if (seed.length !== ED25519_SEED_LENGTH) {
      throw new SigningKeyFileError(`${where}: the seed is ${seed.length} bytes, expected ${ED25519_SEED_LENGTH}`);
    }
    if (keys.some((key) => key.version === version)) {
      throw new SigningKeyFileError(`${where}: key version ${version} appears twice`);
    }
    keys.push(signingKeyFromSeed(version, seed));
  }
  return keys;
}

export function formatSigningKeyFile(keys: readonly SigningKey[]): string {
  return keys.map((key) => `${key.algorithm} ${key.version} ${encodeBase64(key.seed)}\n`).join('');
}

const VERSION_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A new random key; the version defaults to `a_` + 4 random characters, as Synapse names them. */
export function generateSigningKey(version?: string): SigningKey {
  let chosen = version;
  if (chosen === undefined) {
    chosen = 'a_';
    for (let i = 0; i < 4; i++) chosen += VERSION_ALPHABET[randomInt(VERSION_ALPHABET.length)];
  }
  return signingKeyFromSeed(chosen, generateEd25519Seed());
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

async function readKeyFile(path: string): Promise<SigningKey> {
  const keys = parseSigningKeyFile(await readFile(path, 'utf8'));
  const first = keys[0];
  if (first === undefined) throw new SigningKeyFileError(`signing key file ${path} holds no key`);
  return first;
}

/**
 * The first key in the file at `path`, creating the file with a new key (mode 0600) when
 * it does not exist. The file appears atomically with its full content, and if another
 * process creates it at the same moment, both end up using the same key.
 */
export async function loadOrCreateSigningKey(path: string): Promise<{ key: SigningKey; created: boolean }> {
  try {
    return { key: await readKeyFile(path), created: false };
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = generateSigningKey();
  const temporary = `${path}.${process.pid}.${randomInt(1e9)}.tmp`;
  await writeFile(temporary, formatSigningKeyFile([key]), { mode: 0o600, flag: 'wx' });
  try {
    // link() rather than rename(): it fails instead of replacing a key another process
    // has just written, and the key that won is then read back.
    await link(temporary, path);
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
    return { key: await readKeyFile(path), created: false };
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  return { key, created: true };
}
