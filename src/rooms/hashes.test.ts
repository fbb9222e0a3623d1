import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { encodeBase64 } from './base64.ts';
import { CanonicalJsonError } from './canonical-json.ts';
import { checkContentHash, computeContentHash, computeReferenceHash, sha256, withContentHash } from './hashes.ts';
import type { JsonObject } from './json.ts';
import { roomVersionRules } from './room-versions.ts';

const v1 = roomVersionRules('1')!;
const v11 = roomVersionRules('11')!;

test('sha256 of the empty string', () => {
  assert.equal(Buffer.from(sha256(new Uint8Array())).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

// server-server-api.md § "Calculating the content hash for an event".
test('content hash: canonical JSON without unsigned, signatures and hashes', () => {
  const event: JsonObject = { type: 'X', content: { b: 1, a: 'é' }, unsigned: { age: 1 }, signatures: { s: {} }, hashes: { sha256: 'x' } };
  const expected = createHash('sha256').update('{"content":{"a":"é","b":1},"type":"X"}', 'utf8').digest();
  assert.deepEqual(Buffer.from(computeContentHash(event)), expected);
  // The test-vectors.md §5a value.
  const minimal: JsonObject = JSON.parse(
    '{"room_id":"!x:domain","sender":"@a:domain","origin":"domain","origin_server_ts":1000000,"signatures":{},"hashes":{},"type":"X","content":{},"prev_events":[],"auth_events":[],"depth":3,"unsigned":{"age_ts":1000000}}',
  ) as JsonObject;
  assert.equal(encodeBase64(computeContentHash(minimal)), '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos');
});

test('withContentHash adds hashes.sha256, keeps other algorithms and does not mutate', () => {
  const event: JsonObject = { type: 'X', content: {}, hashes: { blake3: 'zzz', sha256: 'old' } };
  const hashed = withContentHash(event);
  assert.deepEqual(hashed['hashes'], { blake3: 'zzz', sha256: encodeBase64(computeContentHash(event)) });
  assert.deepEqual(event['hashes'], { blake3: 'zzz', sha256: 'old' });
  assert.equal(checkContentHash(hashed), true);
  assert.equal(checkContentHash(event), false);
});

test('checkContentHash is false on any tampering or malformed hash, never throws', () => {
  const hashed = withContentHash({ type: 'X', content: { body: 'hi' } });
  assert.equal(checkContentHash({ ...hashed, content: { body: 'ho' } }), false);
  assert.equal(checkContentHash({ ...hashed, extra: 1 }), false);
  assert.equal(checkContentHash({ ...hashed, unsigned: { age: 7 }, signatures: { a: {} } }), true);
  assert.equal(checkContentHash({ ...hashed, hashes: {} }), false);
  assert.equal(checkContentHash({ ...hashed, hashes: 'x' }), false);
  assert.equal(checkContentHash({ ...hashed, hashes: { sha256: '***' } }), false);
  assert.equal(checkContentHash({ ...hashed, hashes: { sha256: 12 } }), false);
  assert.equal(checkContentHash({ ...hashed, float: 1.5 }), false);
  assert.throws(() => computeContentHash({ float: 1.5 }), CanonicalJsonError);
});

// server-server-api.md § "Calculating the reference hash for an event".
test('reference hash: redacted, without signatures and unsigned', () => {
  const event: JsonObject = {
    type: 'm.room.message',
    content: { body: 'secret' },
    origin: 'example.org',
    sender: '@a:example.org',
    signatures: { 'example.org': { 'ed25519:1': 'sig' } },
    unsigned: { age: 1 },
    hashes: { sha256: 'h' },
  };
  const v1Expected = createHash('sha256')
    .update('{"content":{},"hashes":{"sha256":"h"},"origin":"example.org","sender":"@a:example.org","type":"m.room.message"}')
    .digest();
  assert.deepEqual(Buffer.from(computeReferenceHash(event, v1)), v1Expected);
  // v11 drops `origin` in redaction, so the hash differs.
  const v11Expected = createHash('sha256').update('{"content":{},"hashes":{"sha256":"h"},"sender":"@a:example.org","type":"m.room.message"}').digest();
  assert.deepEqual(Buffer.from(computeReferenceHash(event, v11)), v11Expected);
  // Redactable content and signatures do not change it.
  assert.deepEqual(computeReferenceHash({ ...event, content: {}, signatures: {} }, v1), computeReferenceHash(event, v1));
});
