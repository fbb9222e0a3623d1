// Password hashing with scrypt (node:crypto), a memory-hard function: each guess costs an
// attacker 16 MiB of memory as well as time. The parameters are the scrypt paper's for
// interactive logins (N = 2^14, r = 8, p = 1: about 50 ms here, < 100 ms on a busy core);
// they are stored in each hash, so raising them later leaves old hashes verifiable.
//
// Format: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<key>`, salt and key unpadded base64.
// node's scrypt runs on the libuv thread pool, so hashing does not block the event loop.

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParameters {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT_PARAMETERS: ScryptParameters = { logN: 14, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
// A stored hash names its own cost; these bounds keep a corrupt or hostile row from
// asking for gigabytes.
const MAX_LOG_N = 20;
const MAX_R = 32;
const MAX_P = 16;
/** Synapse's limit too: bcrypt and friends only look at so many bytes anyway. */
export const MAX_PASSWORD_LENGTH = 512;

export async function hashPassword(password: string, parameters: ScryptParameters = DEFAULT_SCRYPT_PARAMETERS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, parameters);
  return `$scrypt$ln=${parameters.logN},r=${parameters.r},p=${parameters.p}$${unpadded(salt)}$${unpadded(key)}`;
}

/** Whether `password` matches `stored`; false (never a throw) for a hash it cannot read. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (parsed === undefined) return false;
  const key = await derive(password, parsed.salt, parsed.parameters, parsed.key.length);
  return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
}

/** Whether `stored` was made with weaker parameters than the current ones. */
export function needsRehash(stored: string, parameters: ScryptParameters = DEFAULT_SCRYPT_PARAMETERS): boolean {
  const parsed = parseHash(stored);
  if (parsed === undefined) return true;
  const p = parsed.parameters;
  return p.logN < parameters.logN || p.r < parameters.r || p.p < parameters.p;
}

/**
 * A hash of a random password, for verifying against when the user does not exist, so that
 * "no such user" costs as long as "wrong password" and the timing reveals nothing.
 */
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}
let decoy: Promise<string> | undefined;

interface ParsedHash {
  readonly parameters: ScryptParameters;
  readonly salt: Buffer;
  readonly key: Buffer;
}

const HASH_FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function parseHash(stored: string): ParsedHash | undefined {
  const match = HASH_FORMAT.exec(stored);
  if (match === null) return undefined;
  const [, logN, r, p, salt, key] = match;
  const parameters = { logN: Number(logN), r: Number(r), p: Number(p) };
  if (parameters.logN < 1 || parameters.logN > MAX_LOG_N || parameters.r < 1 || parameters.r > MAX_R) return undefined;
  if (parameters.p < 1 || parameters.p > MAX_P) return undefined;
  const keyBytes = Buffer.from(key ?? '', 'base64');
  if (keyBytes.length < 16) return undefined;
  return { parameters, salt: Buffer.from(salt ?? '', 'base64'), key: keyBytes };
}

function derive(password: string, salt: Buffer, parameters: ScryptParameters, keyLength = KEY_BYTES): Promise<Buffer> {
  const N = 2 ** parameters.logN;
  const options: ScryptOptions = {
    N,
    r: parameters.r,
    p: parameters.p,
    // scrypt needs 128·N·r bytes; node's default cap (32 MiB) is too tight for some settings.
    maxmem: 128 * N * parameters.r * 2 + 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, options, (error, key) => (error === null ? resolve(key) : reject(error)));
  });
}

function unpadded(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}
