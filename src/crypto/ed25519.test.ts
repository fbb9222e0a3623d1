import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { ed25519KeyPairFromSeed, ed25519Verify, Ed25519KeyError, generateEd25519Seed } from './ed25519.ts';
import { decodeBase64, encodeBase64 } from '../rooms/base64.ts';

// test-vectors.md §3 (appendices.md § "Cryptographic Test Vectors" › "Signing Key").
test('Signing Key test vector: seed → public key', () => {
  const pair = ed25519KeyPairFromSeed(decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'));
  assert.equal(encodeBase64(pair.publicKey), 'XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI');
});

test('ed25519 agrees with tweetnacl (independent oracle) on keys, signatures and verification', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 200 }), (seed, message) => {
      const ours = ed25519KeyPairFromSeed(seed);
      const theirs = nacl.sign.keyPair.fromSeed(seed);
      assert.deepEqual(ours.publicKey, theirs.publicKey);
      const signature = ours.sign(message);
      // Ed25519 signatures are deterministic (RFC 8032), so the bytes must be equal.
      assert.deepEqual(signature, nacl.sign.detached(message, theirs.secretKey));
      assert.equal(nacl.sign.detached.verify(message, signature, theirs.publicKey), true);
      assert.equal(ed25519Verify(ours.publicKey, message, signature), true);
      const tampered = new Uint8Array(signature);
      tampered[0] = tampered[0]! ^ 1;
      assert.equal(ed25519Verify(ours.publicKey, message, tampered), false);
    }),
    { numRuns: 50 },
  );
});

test('ed25519Verify never throws on bad input', () => {
  const pair = ed25519KeyPairFromSeed(generateEd25519Seed());
  const message = new TextEncoder().encode('hello');
  const signature = pair.sign(message);
  assert.equal(ed25519Verify(pair.publicKey, message, signature), true);
  assert.equal(ed25519Verify(pair.publicKey, new TextEncoder().encode('hellp'), signature), false);
  assert.equal(ed25519Verify(pair.publicKey.subarray(1), message, signature), false);
  assert.equal(ed25519Verify(pair.publicKey, message, signature.subarray(1)), false);
  assert.equal(ed25519Verify(new Uint8Array(32), message, signature), false);
  assert.equal(ed25519Verify(new Uint8Array(32).fill(0xff), message, signature), false);
  assert.equal(ed25519Verify(undefined as unknown as Uint8Array, message, signature), false);
  assert.equal(ed25519Verify(pair.publicKey, 'hello' as unknown as Uint8Array, signature), false);
  // A different key with the right shape.
  const other = ed25519KeyPairFromSeed(generateEd25519Seed());
  assert.equal(ed25519Verify(other.publicKey, message, signature), false);
});

test('ed25519KeyPairFromSeed refuses seeds of the wrong length and copies the seed', () => {
  assert.throws(() => ed25519KeyPairFromSeed(new Uint8Array(31)), Ed25519KeyError);
  assert.throws(() => ed25519KeyPairFromSeed(new Uint8Array(64)), Ed25519KeyError);
  const seed = generateEd25519Seed();
  const pair = ed25519KeyPairFromSeed(seed);
  seed.fill(0);
  assert.notDeepEqual(pair.seed, seed);
  assert.notDeepEqual(generateEd25519Seed(), generateEd25519Seed());
});

test('ed25519Verify is fast with a cached key (node:crypto, not a JS implementation)', () => {
  const pair = ed25519KeyPairFromSeed(generateEd25519Seed());
  const message = new Uint8Array(1024).fill(7);
  const signature = pair.sign(message);
  const rounds = 2000;
  const start = performance.now();
  for (let i = 0; i < rounds; i++) assert.equal(ed25519Verify(pair.publicKey, message, signature), true);
  const perVerifyMs = (performance.now() - start) / rounds;
  // OpenSSL does ~10–20k verifies/s per core; tweetnacl would take ~5 ms each.
  assert.ok(perVerifyMs < 1, `verify took ${perVerifyMs.toFixed(3)} ms`);
});
