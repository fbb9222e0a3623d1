import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CORS_HEADERS } from '../../../http/app.ts';
import { startApp, testConfig } from '../../../http/testing.ts';
import { discoveryEndpoints } from './index.ts';

test('GET /_matrix/client/versions lists v1.1 … v1.19, no r0 (Stoa serves no /r0/ paths) and unstable_features (§ "API Versions")', async () => {
  const app = await startApp({ endpoints: discoveryEndpoints(testConfig()) });
  try {
    const res = await fetch(`${app.url}/_matrix/client/versions`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { versions: string[]; unstable_features: Record<string, boolean> };
    assert.equal(body.versions[0], 'v1.1');
    assert.ok(!body.versions.some((v: string) => v.startsWith('r0')));
    assert.equal(body.versions.at(-1), 'v1.19');
    for (const version of ['v1.1', 'v1.11', 'v1.19']) assert.ok(body.versions.includes(version), version);
    assert.ok(body.versions.every((v) => /^(v\d+\.\d+|r\d+\.\d+\.\d+)$/.test(v)));
    assert.equal(new Set(body.versions).size, body.versions.length);
    assert.deepEqual(body.unstable_features, { 'org.matrix.simplified_msc3575': true });
  } finally {
    await app.close();
  }
});

test('GET /.well-known/matrix/client gives m.homeserver.base_url with CORS headers (§ "Well-known URIs")', async () => {
  const app = await startApp({ endpoints: discoveryEndpoints(testConfig({ public_baseurl: 'https://matrix.stoa.test/' })) });
  try {
    const res = await fetch(`${app.url}/.well-known/matrix/client`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { 'm.homeserver': { base_url: 'https://matrix.stoa.test/' } });
    assert.equal(res.headers.get('access-control-allow-origin'), CORS_HEADERS['Access-Control-Allow-Origin']);
  } finally {
    await app.close();
  }
});
