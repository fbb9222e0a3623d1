import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { withLegacyR0Paths } from './index.ts';

const endpoint = (method: 'GET' | 'POST', path: string): Endpoint => defineEndpoint({ method, path, auth: 'none', handler: () => ({}) });

test('every v3 endpoint gains an r0 alias except the v3-only ones; nothing is registered twice', () => {
  const result = withLegacyR0Paths([
    endpoint('GET', '/_matrix/client/v3/sync'),
    endpoint('POST', '/_matrix/client/v3/users/:userId/report'),
    endpoint('GET', '/_matrix/client/v1/mutual_rooms'),
    endpoint('GET', '/_matrix/client/versions'),
    endpoint('POST', '/_matrix/client/v3/login'),
    endpoint('POST', '/_matrix/client/r0/login'),
  ]);
  assert.deepEqual(
    result.map((e) => `${e.method} ${e.path}`).slice(6),
    ['GET /_matrix/client/r0/sync'],
  );
  assert.equal(result[6]!.handler, result[0]!.handler);
});
