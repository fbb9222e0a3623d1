// The operator's federation.allow / federation.deny lists (homeserver.example.yaml § federation).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FederationAllowList } from './federation-allow-list.ts';

test('federation.allow ["*"] with no deny allows every server', () => {
  const list = new FederationAllowList({ allow: ['*'], deny: [] });
  assert.ok(list.isAllowed('example.org'));
  assert.ok(list.isAllowed('127.0.0.1:8448'));
});

test('federation.allow limits federation to an organisation’s own sites', () => {
  const list = new FederationAllowList({ allow: ['*.corp.example', 'partner.example.com'], deny: [] });
  assert.equal(list.decide('paris.corp.example'), 'allow');
  assert.equal(list.decide('paris.corp.example:8448'), 'allow');
  assert.equal(list.decide('partner.example.com'), 'allow');
  assert.equal(list.decide('matrix.org'), 'not-allowed');
});

test('federation.deny wins over allow', () => {
  const list = new FederationAllowList({ allow: ['*'], deny: ['*.evil.example', 'spam.example'] });
  assert.equal(list.decide('a.evil.example'), 'denied');
  assert.equal(list.decide('spam.example:8448'), 'denied');
  assert.equal(list.decide('fine.example'), 'allow');
});

test('a glob with a port names that port only; without one it names every port', () => {
  const list = new FederationAllowList({ allow: ['10.0.0.5:8448'], deny: [] });
  assert.ok(list.isAllowed('10.0.0.5:8448'));
  assert.ok(!list.isAllowed('10.0.0.5:9000'));
  const anyPort = new FederationAllowList({ allow: ['10.0.0.5'], deny: [] });
  assert.ok(anyPort.isAllowed('10.0.0.5:9000'));
  assert.ok(new FederationAllowList({ allow: ['[::1]'], deny: [] }).isAllowed('[::1]:8448'));
});

test('an empty allow list allows no one', () => {
  assert.ok(!new FederationAllowList({ allow: [], deny: [] }).isAllowed('example.org'));
});
