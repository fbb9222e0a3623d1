// Turning what clients type into user IDs: the `identifier` object of § "Identifier types"
// (with the deprecated top-level `user` of /login), and usernames at registration.

import { forbidden, invalidUsername, badJson, type MatrixError } from '../../http/matrix-error.ts';
import { isValidUserLocalpart, MAX_IDENTIFIER_BYTES, parseUserId, utf8ByteLength } from '../../rooms/identifiers.ts';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';

export type IdentifiedUser = { readonly ok: true; readonly userId: string } | { readonly ok: false; readonly error: MatrixError };

/**
 * The local user a login or m.login.password `auth` dict names, through `identifier`
 * (`m.id.user`: a user ID or a localpart) or the deprecated top-level `user`. Third-party
 * identifiers are refused with 403, as the spec requires for a 3PID the server does not know.
 */
export function identifiedUser(body: JsonObject, serverName: string): IdentifiedUser {
  const identifier = body['identifier'];
  let user: unknown;
  if (identifier !== undefined) {
    if (!isJsonObject(identifier)) return { ok: false, error: badJson('identifier must be an object') };
    const type = identifier['type'];
    if (type === 'm.id.thirdparty' || type === 'm.id.phone') {
      return { ok: false, error: forbidden('Third-party identifiers are not known to this server') };
    }
    if (type !== 'm.id.user') return { ok: false, error: badJson('identifier.type must be m.id.user, m.id.thirdparty or m.id.phone') };
    user = identifier['user'];
  } else if (body['user'] !== undefined) {
    user = body['user'];
  } else if (body['medium'] !== undefined || body['address'] !== undefined) {
    return { ok: false, error: forbidden('Third-party identifiers are not known to this server') };
  } else {
    return { ok: false, error: badJson('Missing identifier') };
  }
  if (typeof user !== 'string' || user === '') return { ok: false, error: badJson('identifier.user must be a non-empty string') };
  const userId = localUserId(user, serverName);
  // Not ours or not a valid ID: no such user, answered like a wrong password.
  if (userId === undefined) return { ok: false, error: forbidden('Invalid username or password') };
  return { ok: true, userId };
}

/**
 * The local user ID for `user` (a full user ID or a localpart), case-folded as registration
 * folds it; undefined when it names another server or cannot be one of our users.
 */
export function localUserId(user: string, serverName: string): string | undefined {
  if (user.startsWith('@')) {
    const split = parseUserId(user, { historical: true });
    if (split === undefined || split.serverName !== serverName) return undefined;
    return `@${split.localpart.toLowerCase()}:${serverName}`;
  }
  if (user.includes(':')) return undefined;
  return `@${user.toLowerCase()}:${serverName}`;
}

/**
 * The user ID registration gives `username` (client-server § "POST /register": map it "in
 * a logical manner" or refuse it with M_INVALID_USERNAME). Upper case folds to lower case,
 * as Synapse does; anything else outside the grammar is refused. All-digit localparts are
 * kept for guests (they are what guest registration hands out).
 */
export function registrationUserId(username: string, serverName: string): { ok: true; userId: string } | { ok: false; error: MatrixError } {
  const localpart = username.toLowerCase();
  if (localpart === '') return { ok: false, error: invalidUsername('The username must not be empty') };
  if (!isValidUserLocalpart(localpart)) {
    return { ok: false, error: invalidUsername('A username may only contain a-z, 0-9, ".", "_", "=", "-", "/" and "+"') };
  }
  if (/^\d+$/.test(localpart)) return { ok: false, error: invalidUsername('All-digit usernames are reserved for guest accounts') };
  const userId = `@${localpart}:${serverName}`;
  if (utf8ByteLength(userId) > MAX_IDENTIFIER_BYTES) {
    return { ok: false, error: invalidUsername(`The user ID would exceed ${MAX_IDENTIFIER_BYTES} bytes`) };
  }
  return { ok: true, userId };
}
