// Synapse admin API "Shared-Secret Registration": the MAC must be exactly what Synapse's
// `register_new_matrix_user` computes. The expected values were computed with Python's
// hmac/hashlib the way Synapse's servlet does (independently of this code).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { macMatches, sharedSecretMac } from './shared-secret-mac.ts';

test('shared-secret registration MAC: nonce NUL user NUL password NUL admin, UTF-8, hex HMAC-SHA1', () => {
  const mac = sharedSecretMac('sekrit-shared-secret', { nonce: 'abcdef0123', username: 'pepper_roni', password: 'pizzä', admin: true });
  assert.equal(mac, '921130f7d2fbe6e80eb93e38a7e2029ca80bb7f3');
});

test('shared-secret registration MAC: notadmin with a user_type appended', () => {
  const mac = sharedSecretMac('sekrit-shared-secret', { nonce: 'abcdef0123', username: 'bob', password: 'pw', admin: false, userType: 'bot' });
  assert.equal(mac, 'd1ff00546ccad652b6660eada7847bb2ef5c9233');
});

test('shared-secret registration MAC: every field is covered', () => {
  const base = { nonce: 'n', username: 'u', password: 'p', admin: false };
  const reference = sharedSecretMac('secret', base);
  for (const changed of [{ ...base, nonce: 'm' }, { ...base, username: 'v' }, { ...base, password: 'q' }, { ...base, admin: true }]) {
    assert.notEqual(sharedSecretMac('secret', changed), reference);
  }
  assert.notEqual(sharedSecretMac('other', base), reference);
});

test('MAC comparison accepts only the exact digest', () => {
  const mac = sharedSecretMac('secret', { nonce: 'n', username: 'u', password: 'p', admin: false });
  assert.equal(macMatches(mac, mac), true);
  assert.equal(macMatches(mac, mac.toUpperCase()), false);
  assert.equal(macMatches(mac, mac.slice(1)), false);
  assert.equal(macMatches(mac, ''), false);
});
