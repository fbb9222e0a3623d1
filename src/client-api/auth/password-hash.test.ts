// Passwords are hashed with scrypt, a memory-hard function, parameters stored in the hash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SCRYPT_PARAMETERS, hashPassword, needsRehash, verifyPassword } from './password-hash.ts';

test('a hash verifies its password and no other', async () => {
  const hash = await hashPassword('correct horse battery staple');
  assert.equal(await verifyPassword('correct horse battery staple', hash), true);
  assert.equal(await verifyPassword('correct horse battery stapl', hash), false);
  assert.equal(await verifyPassword('', hash), false);
});

test('the hash names scrypt and its parameters, with a random salt', async () => {
  const a = await hashPassword('pw');
  const b = await hashPassword('pw');
  assert.match(a, /^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.notEqual(a, b, 'each hash has its own salt');
  assert.equal(await verifyPassword('pw', b), true);
});

test('Unicode passwords are compared after NFC normalisation', async () => {
  const hash = await hashPassword('caf\u00e9');
  assert.equal(await verifyPassword('cafe\u0301', hash), true);
});

test('older, weaker parameters still verify and are flagged for rehashing', async () => {
  const weak = await hashPassword('pw', { logN: 10, r: 8, p: 1 });
  assert.equal(await verifyPassword('pw', weak), true);
  assert.equal(needsRehash(weak), true);
  assert.equal(needsRehash(await hashPassword('pw')), false);
});

test('unreadable or hostile hashes are a mismatch, never a throw', async () => {
  for (const stored of ['', 'plaintext', '$2b$12$abcdefghijklmnopqrstuv', '$scrypt$ln=40,r=8,p=1$c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5', '$scrypt$ln=14,r=8,p=1$c2FsdA$a2V5']) {
    assert.equal(await verifyPassword('pw', stored), false, stored);
  }
});

test('hashing with the default parameters stays interactive (measured < 500 ms even on a loaded CI core)', async () => {
  assert.deepEqual(DEFAULT_SCRYPT_PARAMETERS, { logN: 14, r: 8, p: 1 });
  await hashPassword('warm-up');
  const started = performance.now();
  await hashPassword('timed');
  assert.ok(performance.now() - started < 500, `took ${performance.now() - started} ms`);
});
