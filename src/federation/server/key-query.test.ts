// server-server § "Querying Keys Through Another Server" (keys_query.yaml): notary answers
// keep the origin's signature and carry ours; served from cache or the origin only.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Keyring, MemoryServerKeyCache } from '../../crypto/keyring.ts';
import type { KeyFetcher, KeyQuery } from '../../crypto/keyring.ts';
import { parseServerKeyDocument } from '../../crypto/server-key-response.ts';
import { signedKeyDocument } from '../../crypto/server-key-testing.ts';
import { verifyJsonSignature } from '../../crypto/signed-json.ts';
import { generateSigningKey } from '../../crypto/signing-key.ts';
import { startApp, testConfig, type RunningApp } from '../../http/testing.ts';
import type { JsonObject } from '../../rooms/json.ts';
import { keyQueryEndpoints } from './key-query.ts';

const NOW = 1_700_000_000_000;
const ourKey = generateSigningKey('notary1');
const remoteKey = generateSigningKey('r1');

describe('notary key query endpoints', () => {
  let app: RunningApp;
  const queries: KeyQuery[] = [];
  const origin: KeyFetcher = {
    name: 'origin',
    source: 'origin',
    async fetch(query) {
      queries.push(query);
      if (query.serverName !== 'remote.example') throw new Error('unreachable');
      return [parseServerKeyDocument(signedKeyDocument({ serverName: 'remote.example', key: remoteKey, validUntilTs: NOW + 3_600_000 }), 'remote.example')];
    },
  };
  const notary: KeyFetcher = { name: 'notary', source: 'notary', fetch: async () => assert.fail('a notary must not ask other notaries') };

  before(async () => {
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [origin, notary], now: () => NOW });
    const config = testConfig({ key_valid_for_ms: 3_600_000 });
    app = await startApp({ endpoints: keyQueryEndpoints({ config, signingKey: ourKey, keyring, now: () => NOW }), listener: 'federation' });
  });
  after(() => app.close());

  const checkDocument = (document: JsonObject): void => {
    assert.equal(document['server_name'], 'remote.example');
    assert.ok(verifyJsonSignature(document, 'remote.example', 'ed25519:r1', remoteKey.publicKey), 'origin signature kept');
    assert.ok(verifyJsonSignature(document, 'stoa.test', ourKey.keyId, ourKey.publicKey), 'notary signature added');
  };

  test('GET /_matrix/key/v2/query/{serverName}', async () => {
    const res = await fetch(`${app.url}/_matrix/key/v2/query/remote.example?minimum_valid_until_ts=${NOW + 1000}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { server_keys: JsonObject[] };
    assert.equal(body.server_keys.length, 1);
    checkDocument(body.server_keys[0] ?? {});
    assert.equal(queries.length, 1);
  });

  test('POST /_matrix/key/v2/query answers from cache, skips unreachable servers, includes ourselves', async () => {
    const res = await fetch(`${app.url}/_matrix/key/v2/query`, {
      method: 'POST',
      body: JSON.stringify({ server_keys: { 'remote.example': { 'ed25519:r1': { minimum_valid_until_ts: NOW + 1000 } }, 'down.example': {}, 'stoa.test': {} } }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { server_keys: JsonObject[] };
    const byName = new Map(body.server_keys.map((document) => [document['server_name'], document]));
    assert.deepEqual([...byName.keys()].sort(), ['remote.example', 'stoa.test']);
    checkDocument(byName.get('remote.example') ?? {});
    assert.ok(verifyJsonSignature(byName.get('stoa.test') ?? {}, 'stoa.test', ourKey.keyId, ourKey.publicKey));
    assert.deepEqual(queries.map((q) => q.serverName), ['remote.example', 'down.example'], 'remote.example came from cache');
  });

  test('bad input: a body without server_keys, a bad minimum_valid_until_ts', async () => {
    const post = await fetch(`${app.url}/_matrix/key/v2/query`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 400);
    const get = await fetch(`${app.url}/_matrix/key/v2/query/remote.example?minimum_valid_until_ts=soon`);
    assert.equal(get.status, 400);
    assert.equal(((await get.json()) as { errcode: string }).errcode, 'M_INVALID_PARAM');
  });
});
