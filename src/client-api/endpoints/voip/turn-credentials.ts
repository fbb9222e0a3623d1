// TURN credentials for GET /voip/turnServer (client-server § "Voice over IP", voip.yaml).
//
// With a shared secret they follow coturn's REST API (`use-auth-secret`): the username is
// `<expiry unix seconds>:<user_id>` and the password base64(HMAC-SHA1(secret, username)),
// so coturn checks them without asking us. Without one, the configured static pair.

import { createHmac } from 'node:crypto';
import type { TurnConfig } from '../../../config/types.ts';

export interface TurnCredentials {
  readonly username: string;
  readonly password: string;
  readonly uris: string[];
  readonly ttl: number;
}

/** undefined when no TURN server is configured (no URIs, or neither secret nor static credentials). */
export function turnCredentials(config: TurnConfig, userId: string, nowMs: number): TurnCredentials | undefined {
  if (config.uris.length === 0) return undefined;
  const ttl = config.ttl_seconds;
  if (config.shared_secret !== undefined) {
    const username = `${Math.floor(nowMs / 1000) + ttl}:${userId}`;
    const password = createHmac('sha1', config.shared_secret).update(username, 'utf8').digest('base64');
    return { username, password, uris: [...config.uris], ttl };
  }
  if (config.username !== undefined && config.password !== undefined) {
    return { username: config.username, password: config.password, uris: [...config.uris], ttl };
  }
  return undefined;
}
