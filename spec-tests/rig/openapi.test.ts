// The OpenAPI rig itself: lookups, $ref resolution across the spec's files, and that it
// accepts conforming bodies and rejects broken ones, with the failing path named.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  expectMatrixError,
  expectSpecResponse,
  findOperation,
  listOperations,
  specDirectory,
  specResponseErrors,
} from './openapi.ts';

describe('expectSpecResponse', () => {
  // client-server-api § "GET /_matrix/client/versions"
  test('a correct /versions body passes', () => {
    expectSpecResponse({ status: 200, body: { versions: ['v1.11', 'v1.19'], unstable_features: { 'org.example.x': true } } }, 'getVersions');
  });

  test('versions: "x" fails, naming the path and the problem', () => {
    assert.throws(
      () => expectSpecResponse({ status: 200, body: { versions: 'x' } }, 'getVersions'),
      (error: unknown) => {
        assert.ok(error instanceof assert.AssertionError);
        assert.match(error.message, /client-server:getVersions/);
        assert.match(error.message, /\/versions: must be array/);
        return true;
      },
    );
    assert.throws(() => expectSpecResponse({ status: 200, body: { unstable_features: { a: 'yes' } } }, 'getVersions'), /must have required property 'versions'[\s\S]*\/unstable_features\/a: must be boolean/);
  });

  // server-server-api § "GET /_matrix/key/v2/server": the schema lives in definitions/keys.yaml.
  test('follows $ref into other files: the spec example server key passes, a broken one fails', () => {
    const example: unknown = JSON.parse(readFileSync(join(specDirectory(), 'data/api/server-server/examples/server_key.json'), 'utf8'));
    expectSpecResponse({ status: 200, body: example }, 'getServerKey');
    const broken = { ...(example as Record<string, unknown>), valid_until_ts: '1652262000000', verify_keys: { 'ed25519:a': {} } };
    const paths = specResponseErrors({ status: 200, body: broken }, 'getServerKey').map((e) => e.instancePath);
    assert.deepEqual(paths.sort(), ['/valid_until_ts', '/verify_keys/ed25519:a'].sort());
  });

  test('error responses validate against the error schema the spec gives for that status', () => {
    // GET /account/whoami declares 401 with the standard error schema (definitions/errors/error.yaml).
    const unknownToken = { status: 401, body: { errcode: 'M_UNKNOWN_TOKEN', error: 'Unrecognised access token' } };
    expectSpecResponse(unknownToken, { method: 'GET', path: '/_matrix/client/v3/account/whoami' });
    assert.throws(() => expectSpecResponse({ status: 401, body: { error: 'no errcode' } }, 'getTokenOwner'), /must have required property 'errcode'/);
    // Some responses carry no schema (GET /rooms/{roomId}/state's 403): only the status is checked.
    expectSpecResponse({ status: 403, body: { anything: 1 } }, { method: 'GET', path: '/_matrix/client/v3/rooms/!r:example.org/state' });
    // A status the operation does not declare is itself a failure.
    assert.throws(() => expectSpecResponse({ status: 418, body: {} }, 'getVersions'), /declares no response for status 418/);
  });

  test('expectMatrixError checks status, error schema and errcode', () => {
    expectMatrixError({ status: 404, body: { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' } }, 404, 'M_UNRECOGNIZED');
    assert.throws(() => expectMatrixError({ status: 400, body: { errcode: 'M_UNRECOGNIZED' } }, 404, 'M_UNRECOGNIZED'), /expected 404 M_UNRECOGNIZED, got 400/);
    assert.throws(() => expectMatrixError({ status: 404, body: { errcode: 'M_NOT_FOUND' } }, 404, 'M_UNRECOGNIZED'), assert.AssertionError);
    assert.throws(() => expectMatrixError({ status: 404, body: { errcode: 7 } }, 404, 'M_UNRECOGNIZED'), /not a Matrix error body[\s\S]*\/errcode: must be string/);
    assert.throws(() => expectMatrixError({ status: 404, body: undefined }, 404, 'M_UNRECOGNIZED'), /not a Matrix error body/);
  });

  test('Matrix identifier formats are checked', () => {
    // GET /_matrix/client/v3/account/whoami: user_id has format mx-user-id.
    expectSpecResponse({ status: 200, body: { user_id: '@alice:example.org' } }, 'getTokenOwner');
    assert.throws(() => expectSpecResponse({ status: 200, body: { user_id: 'alice' } }, 'getTokenOwner'), /\/user_id: must match format "mx-user-id"/);
  });
});

describe('operation index', () => {
  test('finds operations by id, qualified id, and method + concrete path', () => {
    assert.equal(findOperation('getVersions').pathTemplate, '/_matrix/client/versions');
    assert.equal(findOperation('identity:getVersions').pathTemplate, '/_matrix/identity/versions');
    assert.equal(findOperation('server-server:getRoomState').pathTemplate, '/_matrix/federation/v1/state/{roomId}');
    assert.throws(() => findOperation('getRoomState'), /ambiguous; qualify it/);
    assert.throws(() => findOperation('noSuchOperation'), /no operation with operationId/);

    assert.equal(findOperation({ method: 'GET', path: '/_matrix/federation/v1/version' }).operationId, 'getVersion');
    assert.equal(findOperation({ method: 'get', path: '/_matrix/key/v2/server?x=1' }).operationId, 'getServerKey');
    assert.equal(findOperation({ method: 'GET', path: '/.well-known/matrix/client' }).operationId, 'getWellknown');
    assert.equal(findOperation({ method: 'PUT', path: '/_matrix/client/v3/rooms/!r:x/send/m.room.message/txn1' }).operationId, 'sendMessage');
    assert.throws(() => findOperation({ method: 'DELETE', path: '/_matrix/client/versions' }), /no operation for DELETE/);
  });

  test('prefers the template with more literal text when two match', () => {
    // /rooms/{roomId}/state/{eventType}/{stateKey} matches .../state/m.room.name/x; nothing
    // literal competes, but /user/{userId}/filter (POST) must not swallow /filter/{id}.
    assert.equal(findOperation({ method: 'GET', path: '/_matrix/client/v3/rooms/!r:x/state/m.room.name/' + 'k' }).operationId, 'getRoomStateWithKey');
    assert.equal(findOperation({ method: 'GET', path: '/_matrix/client/v3/user/@a:x/filter/1' }).operationId, 'getFilter');
  });

  test('every response schema of the client-server and server-server APIs compiles', () => {
    let checked = 0;
    for (const op of listOperations()) {
      if (op.api !== 'client-server' && op.api !== 'server-server') continue;
      for (const status of [200, 400, 401, 403, 404, 429]) {
        try {
          specResponseErrors({ status, body: {} }, `${op.api}:${op.operationId}`);
          checked++;
        } catch (error) {
          // Undeclared statuses are expected; anything else (an unresolvable $ref) is not.
          if (!(error instanceof Error) || !/declares no response/.test(error.message)) throw error;
        }
      }
    }
    assert.ok(checked > 300, `only ${checked} response schemas checked`);
  });
});
