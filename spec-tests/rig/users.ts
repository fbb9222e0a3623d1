// Accounts for black-box tests: `registerUser(node, 'alice')` creates @alice on the node with
// the shared-secret registration admin API (the way Synapse's `register_new_matrix_user`
// does it: GET a nonce, POST with an HMAC-SHA1 over nonce, username, password and admin
// flag) and returns a logged-in session. Not rate limited, so tests may create many users.

import { createHmac } from 'node:crypto';
import { request } from './http.ts';
import type { TestNode } from './nodes.ts';

export interface RegisteredUser {
  readonly userId: string;
  readonly accessToken: string;
  readonly deviceId: string;
  readonly password: string;
}

export interface RegisterUserOptions {
  /** Default: `<localpart>-password`. */
  readonly password?: string;
  readonly admin?: boolean;
  readonly displayName?: string;
}

/**
 * Registers `localpart` on `node` and logs it in. The third argument is the password, or
 * options. Throws with the server's answer when registration fails.
 */
export async function registerUser(
  node: Pick<TestNode, 'clientUrl' | 'registrationSharedSecret'>,
  localpart: string,
  passwordOrOptions: string | RegisterUserOptions = {},
): Promise<RegisteredUser> {
  const options = typeof passwordOrOptions === 'string' ? { password: passwordOrOptions } : passwordOrOptions;
  const password = options.password ?? `${localpart}-password`;
  const admin = options.admin ?? false;
  const url = `${node.clientUrl}/_synapse/admin/v1/register`;

  const nonceResponse = await request(url);
  const nonce = (nonceResponse.body as { nonce?: unknown } | undefined)?.nonce;
  if (nonceResponse.status !== 200 || typeof nonce !== 'string') {
    throw new Error(`registerUser(${localpart}): GET ${url} answered ${nonceResponse.status} ${nonceResponse.text}`);
  }
  const mac = sharedSecretRegistrationMac(node.registrationSharedSecret, nonce, localpart, password, admin);
  const body: Record<string, unknown> = { nonce, username: localpart, password, admin, mac };
  if (options.displayName !== undefined) body['displayname'] = options.displayName;
  const response = await request(url, { method: 'POST', body });
  const result = response.body as { user_id?: unknown; access_token?: unknown; device_id?: unknown } | undefined;
  if (response.status !== 200 || typeof result?.user_id !== 'string' || typeof result.access_token !== 'string' || typeof result.device_id !== 'string') {
    throw new Error(`registerUser(${localpart}): POST ${url} answered ${response.status} ${response.text}`);
  }
  return { userId: result.user_id, accessToken: result.access_token, deviceId: result.device_id, password };
}

/**
 * The MAC exactly as Synapse's `register_new_matrix_user` computes it, written here
 * independently of Stoa's own code so the test checks compatibility rather than agreement.
 */
export function sharedSecretRegistrationMac(secret: string, nonce: string, username: string, password: string, admin: boolean): string {
  const mac = createHmac('sha1', secret);
  mac.update(nonce);
  mac.update('\x00');
  mac.update(username);
  mac.update('\x00');
  mac.update(password);
  mac.update('\x00');
  mac.update(admin ? 'admin' : 'notadmin');
  return mac.digest('hex');
}

/** `Authorization: Bearer` headers for `user`. */
export function authHeaders(user: Pick<RegisteredUser, 'accessToken'>): Record<string, string> {
  return { Authorization: `Bearer ${user.accessToken}` };
}
