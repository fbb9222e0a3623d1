import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateSigningKey } from '../../crypto/signing-key.ts';
import { startApp, testConfig } from '../../http/testing.ts';
import { SOFTWARE_VERSION } from '../../http/server-info.ts';
import { clientListenerFederationEndpoints, federationFoundationEndpoints } from './foundation.ts';

test('GET /_matrix/federation/v1/version names Stoa and its version (data/api/server-server/version.yaml)', async () => {
  const app = await startApp({
    endpoints: federationFoundationEndpoints({ config: testConfig(), signingKey: generateSigningKey() }),
    listener: 'federation',
  });
  try {
    const res = await fetch(`${app.url}/_matrix/federation/v1/version`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { server: { name: 'Stoa', version: SOFTWARE_VERSION } });
    assert.match(SOFTWARE_VERSION, /^\d+\.\d+\.\d+/);
  } finally {
    await app.close();
  }
});

test('GET /.well-known/matrix/server: the delegation when configured (server-server § "Resolving server names")', async () => {
  const app = await startApp({
    endpoints: clientListenerFederationEndpoints({
      config: testConfig({ well_known_server: 'federation.stoa.test:8448' }),
      signingKey: generateSigningKey(),
    }),
  });
  try {
    const res = await fetch(`${app.url}/.well-known/matrix/server`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await res.json(), { 'm.server': 'federation.stoa.test:8448' });
    assert.equal((await fetch(`${app.url}/_matrix/key/v2/server`)).status, 200, 'keys on the client listener too');
  } finally {
    await app.close();
  }
});

test('GET /.well-known/matrix/server: 404 M_NOT_FOUND when no delegation is configured', async () => {
  const app = await startApp({
    endpoints: clientListenerFederationEndpoints({ config: testConfig(), signingKey: generateSigningKey() }),
  });
  try {
    const res = await fetch(`${app.url}/.well-known/matrix/server`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as Record<string, unknown>)['errcode'], 'M_NOT_FOUND');
  } finally {
    await app.close();
  }
});
