// client-server API § "Using access tokens": opaque tokens, stored only as hashes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateDeviceId, generateToken, hashToken } from './tokens.ts';

test('tokens carry their kind as a prefix and 256 random bits', () => {
  const access = generateToken('access');
  assert.match(access, /^sta_[A-Za-z0-9_-]{43}$/);
  assert.match(generateToken('refresh'), /^str_[A-Za-z0-9_-]{43}$/);
  assert.match(generateToken('login'), /^stl_[A-Za-z0-9_-]{43}$/);
  const many = new Set(Array.from({ length: 1000 }, () => generateToken('access')));
  assert.equal(many.size, 1000);
});

test('hashToken is SHA-256 in base64url (checked against Python hashlib)', () => {
  assert.equal(hashToken('sta_example'), '6LnoVEP6XvigsuBZUfbJXs9H4ZqqGJC8lJkzpNcemyM');
  assert.notEqual(hashToken('sta_exampld'), hashToken('sta_example'));
});

test('server-chosen device IDs are ten upper-case letters', () => {
  for (let i = 0; i < 100; i++) assert.match(generateDeviceId(), /^[A-Z]{10}$/);
});
