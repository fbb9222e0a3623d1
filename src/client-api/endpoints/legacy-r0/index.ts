// The legacy `/_matrix/client/r0/...` paths (client-server r0.x, before v1.1 renamed the
// prefix to v3). Synapse still serves nearly every v3 endpoint under r0 too, and older
// clients and bots (and some bridges) call them there; the endpoints behave the same.
//
// One generic mapping rather than per-endpoint copies: every `/_matrix/client/v3/` endpoint
// is also routed at `/_matrix/client/r0/`, except those Synapse serves under v3 only (they
// were added after r0 and no r0 client calls them). /versions keeps listing v1.x only.

import type { Endpoint } from '../../../http/define-endpoint.ts';

const V3 = '/_matrix/client/v3/';
const R0 = '/_matrix/client/r0/';

/** v3 paths (after the prefix) Synapse registers with `releases=("v3",)`. */
const V3_ONLY: ReadonlySet<string> = new Set([
  'rooms/:roomId/report',
  'users/:userId/report',
  'keys/device_signing/upload',
  'keys/signatures/upload',
]);

/** `endpoints` plus an r0 alias of each v3 endpoint that Synapse serves under r0. */
export function withLegacyR0Paths(endpoints: readonly Endpoint[]): Endpoint[] {
  const taken = new Set(endpoints.map((e) => `${e.method} ${e.path}`));
  const aliases: Endpoint[] = [];
  for (const endpoint of endpoints) {
    if (!endpoint.path.startsWith(V3)) continue;
    const rest = endpoint.path.slice(V3.length);
    if (V3_ONLY.has(rest)) continue;
    const path = R0 + rest;
    if (taken.has(`${endpoint.method} ${path}`)) continue;
    taken.add(`${endpoint.method} ${path}`);
    aliases.push({ ...endpoint, path });
  }
  return [...endpoints, ...aliases];
}
