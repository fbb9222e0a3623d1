// The MAC of Synapse's shared-secret registration admin API, so that its tools
// (`register_new_matrix_user`, Ansible roles, synapse-admin) work against Stoa unchanged:
// hex HMAC-SHA1 keyed with the shared secret over
//   nonce NUL username NUL password NUL ("admin" | "notadmin") [NUL user_type]
// with every part UTF-8 encoded.

import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SharedSecretRegistration {
  readonly nonce: string;
  readonly username: string;
  readonly password: string;
  readonly admin: boolean;
  readonly userType?: string | undefined;
}

export function sharedSecretMac(secret: string, registration: SharedSecretRegistration): string {
  const hmac = createHmac('sha1', Buffer.from(secret, 'utf8'));
  hmac.update(Buffer.from(registration.nonce, 'utf8'));
  hmac.update('\u0000');
  hmac.update(Buffer.from(registration.username, 'utf8'));
  hmac.update('\u0000');
  hmac.update(Buffer.from(registration.password, 'utf8'));
  hmac.update('\u0000');
  hmac.update(registration.admin ? 'admin' : 'notadmin');
  if (registration.userType !== undefined && registration.userType !== '') {
    hmac.update('\u0000');
    hmac.update(Buffer.from(registration.userType, 'utf8'));
  }
  return hmac.digest('hex');
}

/** Constant-time comparison of a submitted MAC with the expected one. */
export function macMatches(expected: string, submitted: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(submitted, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
