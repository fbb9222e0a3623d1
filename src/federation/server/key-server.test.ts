// server-server § "Publishing Keys" (data/api/server-server/keys_server.yaml), checked with
// tweetnacl as an ed25519 implementation independent of ours.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import nacl from 'tweetnacl';
import { generateSigningKey } from '../../crypto/signing-key.ts';
import { startApp, testConfig, type RunningApp } from '../../http/testing.ts';
import { canonicalJson } from '../../rooms/canonical-json.ts';
import { keyServerEndpoints, serverKeysDocument } from './key-server.ts';

const fromBase64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

interface KeyDocument {
  server_name: string;
  verify_keys: Record<string, { key: string }>;
  old_verify_keys: Record<string, { key: string; expired_ts: number }>;
  valid_until_ts: number;
  signatures: Record<string, Record<string, string>>;
}

function verifyWithTweetnacl(document: KeyDocument, serverName: string, keyId: string, publicKey: Uint8Array): boolean {
  const { signatures, ...signed } = document;
  const signature = signatures[serverName]?.[keyId];
  if (signature === undefined) return false;
  return nacl.sign.detached.verify(new TextEncoder().encode(canonicalJson(signed)), fromBase64(signature), publicKey);
}

describe('GET /_matrix/key/v2/server', () => {
  const key = generateSigningKey('test1');
  const oldKey = generateSigningKey('old1');
  const config = testConfig({
    key_valid_for_ms: 3_600_000,
    old_signing_keys: [{ key_id: oldKey.keyId, public_key: oldKey.publicKeyBase64, expired_ts: 1_600_000_000_000 }],
  });
  let app: RunningApp;
  before(async () => {
    app = await startApp({ endpoints: keyServerEndpoints({ config, signingKey: key }), listener: 'federation' });
  });
  after(() => app.close());

  test('publishes the current key, old keys and a future valid_until_ts, signed by the current key', async () => {
    const before = Date.now();
    const res = await fetch(`${app.url}/_matrix/key/v2/server`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const document = (await res.json()) as KeyDocument;
    assert.equal(document.server_name, 'stoa.test');
    assert.deepEqual(document.verify_keys, { 'ed25519:test1': { key: key.publicKeyBase64 } });
    assert.deepEqual(document.old_verify_keys, {
      'ed25519:old1': { key: oldKey.publicKeyBase64, expired_ts: 1_600_000_000_000 },
    });
    assert.ok(document.valid_until_ts >= before + 3_600_000);
    assert.ok(document.valid_until_ts <= Date.now() + 3_600_000);
    assert.ok(verifyWithTweetnacl(document, 'stoa.test', 'ed25519:test1', fromBase64(document.verify_keys['ed25519:test1']!.key)));
  });

  test('a tampered document no longer verifies (the check can fail)', async () => {
    const document = (await (await fetch(`${app.url}/_matrix/key/v2/server`)).json()) as KeyDocument;
    document.valid_until_ts += 1;
    assert.equal(verifyWithTweetnacl(document, 'stoa.test', 'ed25519:test1', key.publicKey), false);
  });

  test('the deprecated /server/{keyId} form answers the same document', async () => {
    const res = await fetch(`${app.url}/_matrix/key/v2/server/${encodeURIComponent('ed25519:test1')}`);
    assert.equal(res.status, 200);
    const document = (await res.json()) as KeyDocument;
    assert.deepEqual(Object.keys(document.verify_keys), ['ed25519:test1']);
    assert.ok(verifyWithTweetnacl(document, 'stoa.test', 'ed25519:test1', key.publicKey));
  });
});

test('valid_until_ts follows the injected clock and key_valid_for_ms', () => {
  const key = generateSigningKey();
  const config = testConfig({ key_valid_for_ms: 86_400_000 });
  const document = serverKeysDocument({ config, signingKey: key }, 1_000_000);
  assert.equal(document['valid_until_ts'], 1_000_000 + 86_400_000);
  assert.deepEqual(document['old_verify_keys'], {});
});

test('an old key listed with the current key ID is not published as expired', () => {
  const key = generateSigningKey('same');
  const config = testConfig({ old_signing_keys: [{ key_id: key.keyId, public_key: key.publicKeyBase64, expired_ts: 1 }] });
  const document = serverKeysDocument({ config, signingKey: key }, 0);
  assert.deepEqual(document['old_verify_keys'], {});
});
