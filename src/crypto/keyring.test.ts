// server-server § "Retrieving server keys" and keys.yaml (validity rules), against
// in-memory fetchers and an injected clock. The HTTP fetchers are tested end to end in
// src/federation/client/key-fetchers.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JsonObject } from '../rooms/json.ts';
import { Keyring, MAX_KEY_VALIDITY_MS, MemoryServerKeyCache } from './keyring.ts';
import type { KeyFetcher, KeyQuery } from './keyring.ts';
import { checkNotarySignature, KeyResponseError, parseServerKeyDocument } from './server-key-response.ts';
import type { ServerKeyDocument } from './server-key-response.ts';
import { signedKeyDocument } from './server-key-testing.ts';
import { signJson } from './signed-json.ts';
import { generateSigningKey } from './signing-key.ts';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

class FakeFetcher implements KeyFetcher {
  readonly name: string;
  readonly source: 'origin' | 'notary';
  readonly queries: KeyQuery[] = [];
  respond: (query: KeyQuery) => Promise<JsonObject[]> | JsonObject[];
  constructor(source: 'origin' | 'notary', respond: (query: KeyQuery) => Promise<JsonObject[]> | JsonObject[]) {
    this.name = source;
    this.source = source;
    this.respond = respond;
  }
  async fetch(query: KeyQuery): Promise<ServerKeyDocument[]> {
    this.queries.push(query);
    const documents = await this.respond(query);
    return documents.map((document) => parseServerKeyDocument(document, query.serverName));
  }
}

function clock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('key documents (keys.yaml)', () => {
  const key = generateSigningKey('k1');
  test('a self-signed document parses, unsupported algorithms dropped', () => {
    const document = signedKeyDocument({ serverName: 'remote.example', key, validUntilTs: T0 });
    const withOther = signJson({ ...document, verify_keys: { ...(document['verify_keys'] as JsonObject), 'curve25519:x': { key: 'AAAA' } } }, 'remote.example', key);
    const parsed = parseServerKeyDocument(withOther, 'remote.example');
    assert.deepEqual([...parsed.verifyKeys.keys()], ['ed25519:k1']);
    assert.equal(parsed.validUntilTs, T0);
  });

  test('bad self-signature, wrong server name, bad shapes are KeyResponseErrors', () => {
    const other = generateSigningKey('k1');
    const cases: Array<[string, unknown, string]> = [
      ['signed by another key', signedKeyDocument({ serverName: 'remote.example', key, validUntilTs: T0, signWith: other }), 'remote.example'],
      ['unsigned', { server_name: 'remote.example', verify_keys: { 'ed25519:k1': { key: key.publicKeyBase64 } }, valid_until_ts: T0 }, 'remote.example'],
      ['other server', signedKeyDocument({ serverName: 'evil.example', key, validUntilTs: T0 }), 'remote.example'],
      ['no valid_until_ts', signJson({ server_name: 'remote.example', verify_keys: { 'ed25519:k1': { key: key.publicKeyBase64 } } }, 'remote.example', key), 'remote.example'],
      ['short key', signJson({ server_name: 'remote.example', verify_keys: { 'ed25519:k1': { key: 'AAAA' } }, valid_until_ts: T0 }, 'remote.example', key), 'remote.example'],
      ['not an object', [], 'remote.example'],
    ];
    for (const [what, document, server] of cases) {
      assert.throws(() => parseServerKeyDocument(document as JsonObject, server), KeyResponseError, what);
    }
  });

  test('a notary signature is checked against the configured notary keys', () => {
    const notaryKey = generateSigningKey('n1');
    const document = signJson(signedKeyDocument({ serverName: 'remote.example', key, validUntilTs: T0 }), 'notary.example', notaryKey);
    checkNotarySignature(document, 'notary.example', new Map([['ed25519:n1', notaryKey.publicKey]]));
    assert.throws(
      () => checkNotarySignature(document, 'notary.example', new Map([['ed25519:n1', generateSigningKey('n1').publicKey]])),
      KeyResponseError,
    );
  });
});

describe('Keyring', () => {
  const remoteKey = generateSigningKey('k1');
  const doc = (validUntilTs: number, extra: Partial<Parameters<typeof signedKeyDocument>[0]> = {}): JsonObject =>
    signedKeyDocument({ serverName: 'remote.example', key: remoteKey, validUntilTs, ...extra });

  test('fetches from the origin once, then answers from the cache', async () => {
    const time = clock();
    const origin = new FakeFetcher('origin', () => [doc(T0 + 2 * HOUR)]);
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [origin], now: time.now });
    const first = await keyring.getVerifyKey('remote.example', 'ed25519:k1');
    assert.deepEqual(first?.publicKey, remoteKey.publicKey);
    assert.equal(first?.validUntilTs, T0 + 2 * HOUR);
    assert.equal(first?.expired, false);
    await keyring.getVerifyKey('remote.example', 'ed25519:k1');
    assert.equal(origin.queries.length, 1);
    assert.deepEqual(origin.queries[0], { serverName: 'remote.example', keyIds: ['ed25519:k1'], minimumValidUntilTs: T0 });
  });

  test('refetches when minimum_valid_until_ts is beyond the cached validity, and when the key expires', async () => {
    const time = clock();
    let validUntil = T0 + HOUR;
    const origin = new FakeFetcher('origin', () => [doc(validUntil)]);
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [origin], now: time.now });
    await keyring.getVerifyKey('remote.example', 'ed25519:k1');
    validUntil = T0 + 5 * HOUR;
    const later = await keyring.getVerifyKey('remote.example', 'ed25519:k1', { minimumValidUntilTs: T0 + 3 * HOUR });
    assert.equal(origin.queries.length, 2);
    assert.equal(later?.validUntilTs, T0 + 5 * HOUR);
    await keyring.getVerifyKey('remote.example', 'ed25519:k1', { minimumValidUntilTs: T0 + 4 * HOUR });
    assert.equal(origin.queries.length, 2);
    time.advance(6 * HOUR); // now past valid_until_ts: default minimum is now
    await keyring.getVerifyKey('remote.example', 'ed25519:k1');
    assert.equal(origin.queries.length, 3);
  });

  test('validity is capped at 7 days after fetching (keys.yaml valid_until_ts)', async () => {
    const time = clock();
    const origin = new FakeFetcher('origin', () => [doc(T0 + 365 * 24 * HOUR)]);
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [origin], now: time.now });
    const key = await keyring.getVerifyKey('remote.example', 'ed25519:k1');
    assert.equal(key?.validUntilTs, T0 + MAX_KEY_VALIDITY_MS);
  });

  test('returns the best key it has when nothing satisfies the minimum (the caller enforces validity)', async () => {
    const time = clock();
    const origin = new FakeFetcher('origin', () => [doc(T0 + HOUR)]);
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [origin], now: time.now });
    const key = await keyring.getVerifyKey('remote.example', 'ed25519:k1', { minimumValidUntilTs: T0 + 10 * HOUR });
    assert.equal(key?.validUntilTs, T0 + HOUR);
  });

  test('a document with a bad self-signature is not cached; the next fetcher is asked', async () => {
    const errors: string[] = [];
    const origin = new FakeFetcher('origin', () => [doc(T0 + HOUR, { signWith: generateSigningKey('k1') })]);
    const notary = new FakeFetcher('notary', () => [doc(T0 + HOUR)]);
    const keyring = new Keyring({
      cache: new MemoryServerKeyCache(),
      fetchers: [origin, notary],
      now: () => T0,
      onFetchError: (fetcher, _server, error) => errors.push(`${fetcher}: ${(error as Error).name}`),
    });
    const key = await keyring.getVerifyKey('remote.example', 'ed25519:k1');
    assert.deepEqual(key?.publicKey, remoteKey.publicKey);
    assert.deepEqual(errors, ['origin: KeyResponseError']);
    assert.equal(notary.queries.length, 1);
  });

  test('unknown keys are undefined after every fetcher was asked; unsupported algorithms ask nobody', async () => {
    const origin = new FakeFetcher('origin', () => [doc(T0 + HOUR)]);
    const notary = new FakeFetcher('notary', () => {
      throw new Error('unreachable');
    });
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [origin, notary], now: () => T0 });
    assert.equal(await keyring.getVerifyKey('remote.example', 'ed25519:nope'), undefined);
    assert.equal(notary.queries.length, 1);
    assert.equal(await keyring.getVerifyKey('remote.example', 'curve25519:k1'), undefined);
    assert.equal(origin.queries.length, 1);
  });

  test('old_verify_keys are returned as expired, valid until expired_ts, and not refetched', async () => {
    const oldKey = generateSigningKey('old');
    const origin = new FakeFetcher('origin', () => [doc(T0 + HOUR, { oldKeys: [{ key: oldKey, expiredTs: T0 - HOUR }] })]);
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [origin], now: () => T0 });
    const key = await keyring.getVerifyKey('remote.example', 'ed25519:old', { minimumValidUntilTs: T0 - 2 * HOUR });
    assert.deepEqual(key?.publicKey, oldKey.publicKey);
    assert.equal(key?.expired, true);
    assert.equal(key?.validUntilTs, T0 - HOUR);
    await keyring.getVerifyKey('remote.example', 'ed25519:old', { minimumValidUntilTs: T0 + 10 * HOUR });
    assert.equal(origin.queries.length, 1);
  });

  test('a key that moves to old_verify_keys is recorded as expired', async () => {
    const time = clock();
    const next = generateSigningKey('k2');
    let rotated = false;
    const origin = new FakeFetcher('origin', () => [
      rotated
        ? signedKeyDocument({ serverName: 'remote.example', key: next, validUntilTs: T0 + 10 * HOUR, oldKeys: [{ key: remoteKey, expiredTs: T0 + HOUR }] })
        : doc(T0 + HOUR),
    ]);
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [origin], now: time.now });
    await keyring.getVerifyKey('remote.example', 'ed25519:k1');
    rotated = true;
    time.advance(2 * HOUR);
    await keyring.getVerifyKey('remote.example', 'ed25519:k2');
    const old = await keyring.getVerifyKey('remote.example', 'ed25519:k1');
    assert.equal(old?.expired, true);
    assert.equal(old?.validUntilTs, T0 + HOUR);
  });

  test('concurrent lookups for one server share one fetch', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const origin = new FakeFetcher('origin', async () => {
      await gate;
      return [doc(T0 + HOUR)];
    });
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [origin], now: () => T0 });
    const lookups = Array.from({ length: 5 }, () => keyring.getVerifyKey('remote.example', 'ed25519:k1'));
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const keys = await Promise.all(lookups);
    assert.equal(origin.queries.length, 1);
    for (const key of keys) assert.deepEqual(key?.publicKey, remoteKey.publicKey);
  });

  test('a stale notary copy does not shorten a key fetched from the origin', async () => {
    const time = clock();
    const origin = new FakeFetcher('origin', () => [doc(T0 + 10 * HOUR)]);
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [origin], now: time.now });
    await keyring.getVerifyKey('remote.example', 'ed25519:k1');
    origin.respond = () => [doc(T0 + HOUR)];
    await keyring.getVerifyKey('remote.example', 'ed25519:k1', { minimumValidUntilTs: T0 + 20 * HOUR });
    const key = await keyring.getVerifyKey('remote.example', 'ed25519:k1');
    assert.equal(key?.validUntilTs, T0 + 10 * HOUR);
  });

  test('our own keys are answered locally', async () => {
    const own = generateSigningKey('me');
    const origin = new FakeFetcher('origin', () => []);
    const keyring = new Keyring({
      cache: new MemoryServerKeyCache(),
      fetchers: [origin],
      localKeys: { serverName: 'me.example', keys: [{ keyId: own.keyId, publicKey: own.publicKey }] },
    });
    assert.deepEqual((await keyring.getVerifyKey('me.example', own.keyId))?.publicKey, own.publicKey);
    assert.equal(await keyring.getVerifyKey('me.example', 'ed25519:other'), undefined);
    assert.equal(origin.queries.length, 0);
  });

  test('getKeyDocuments: origin only when asked, documents newest first', async () => {
    const time = clock();
    const origin = new FakeFetcher('origin', () => [doc(T0 + HOUR)]);
    const notary = new FakeFetcher('notary', () => [doc(T0 + 2 * HOUR)]);
    const keyring = new Keyring({ cache: new MemoryServerKeyCache(), fetchers: [origin, notary], now: time.now });
    const texts = await keyring.getKeyDocuments('remote.example', { sources: 'origin', minimumValidUntilTs: T0 + 5 * HOUR });
    assert.equal(notary.queries.length, 0);
    assert.equal(texts.length, 1);
    assert.equal((JSON.parse(texts[0] ?? '{}') as { valid_until_ts: number }).valid_until_ts, T0 + HOUR);
  });
});
