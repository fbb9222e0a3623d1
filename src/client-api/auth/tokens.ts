// Opaque bearer tokens: 32 random bytes, base64url, behind a prefix that says what the token
// is (so a token pasted into a log or a bug report is recognisable, and secret scanners can
// match it). Only the SHA-256 of a token is stored; lookups are by that hash, so a database
// leak yields no usable token and no comparison ever runs over a secret byte by byte.

import { createHash, randomBytes } from 'node:crypto';

export type TokenKind = 'access' | 'refresh' | 'login';

const PREFIXES: Readonly<Record<TokenKind, string>> = {
  access: 'sta_',
  refresh: 'str_',
  login: 'stl_',
};

const TOKEN_BYTES = 32;

export function generateToken(kind: TokenKind): string {
  return PREFIXES[kind] + randomBytes(TOKEN_BYTES).toString('base64url');
}

/** The form a token is stored and looked up in: SHA-256, base64url. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** Device IDs the server picks: 10 upper-case letters, like Synapse's. */
export function generateDeviceId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const bytes = randomBytes(10);
  let id = '';
  // 256 is not a multiple of 26, but the bias (< 1%) does not matter for an identifier.
  for (const byte of bytes) id += alphabet[byte % alphabet.length];
  return id;
}

/** An opaque random identifier (UIA session IDs, nonces): `bytes` random bytes, base64url. */
export function randomId(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}
