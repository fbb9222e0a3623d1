import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import type { TurnConfig } from '../../../config/types.ts';
import { turnCredentials } from './turn-credentials.ts';

const BASE: TurnConfig = { uris: ['turn:t.example:3478'], shared_secret: undefined, username: undefined, password: undefined, ttl_seconds: 600, allow_guests: true };

test('client-server § Voice over IP: coturn REST credentials from the shared secret', () => {
  const credentials = turnCredentials({ ...BASE, shared_secret: 's3cret' }, '@a:x', 1_700_000_000_500);
  assert.equal(credentials?.username, `${1_700_000_000 + 600}:@a:x`);
  assert.equal(credentials?.password, createHmac('sha1', 's3cret').update(`${1_700_000_600}:@a:x`).digest('base64'));
  assert.deepEqual(credentials?.uris, BASE.uris);
  assert.equal(credentials?.ttl, 600);
});

test('client-server § Voice over IP: static credentials, and none without URIs or credentials', () => {
  assert.deepEqual(turnCredentials({ ...BASE, username: 'u', password: 'p' }, '@a:x', 0), { username: 'u', password: 'p', uris: BASE.uris, ttl: 600 });
  assert.equal(turnCredentials(BASE, '@a:x', 0), undefined);
  assert.equal(turnCredentials({ ...BASE, uris: [], shared_secret: 's' }, '@a:x', 0), undefined);
});
