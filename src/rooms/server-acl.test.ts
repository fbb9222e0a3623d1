// Server ACLs: client-server § "Server Access Control Lists (ACLs) for rooms", the
// m.room.server_acl event schema's rules 1–5, and appendices § "Glob-style matching".

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileGlob, evaluateServerAcl, isServerAllowedByAcl, parseServerAcl, serverHost } from './server-acl.ts';

test('appendices § Glob-style matching: * any run, ? exactly one, case-insensitive, anchored', () => {
  const glob = compileGlob('*.example.org');
  assert.ok(glob.matches('matrix.example.org'));
  assert.ok(glob.matches('A.B.EXAMPLE.ORG'));
  assert.ok(!glob.matches('example.org'));
  assert.ok(!glob.matches('matrix.example.org.evil.com'));
  assert.ok(compileGlob('ex?mple.org').matches('exAmple.org'));
  assert.ok(!compileGlob('ex?mple.org').matches('exmple.org'));
  assert.ok(!compileGlob('ex?mple.org').matches('exaample.org'));
  // Regex metacharacters in a pattern are literal.
  assert.ok(!compileGlob('a.b').matches('axb'));
  assert.ok(compileGlob('[::1]').matches('[::1]'));
  assert.ok(compileGlob('*').matches(''));
});

test('m.room.server_acl rule 1: no ACL event allows everyone', () => {
  assert.equal(evaluateServerAcl(undefined, 'anyone.example'), 'allow');
});

test('m.room.server_acl: ports are not considered', () => {
  const acl = parseServerAcl({ allow: ['*'], deny: ['evil.com'] });
  for (const name of ['evil.com', 'evil.com:8448', 'evil.com:1234']) assert.equal(evaluateServerAcl(acl, name), 'deny-listed');
  assert.equal(evaluateServerAcl(acl, 'good.com:8448'), 'allow');
  assert.deepEqual(serverHost('[2001:db8::1]:8448'), { host: '[2001:db8::1]', isIpLiteral: true });
});

test('m.room.server_acl rule 2: IP literals denied when allow_ip_literals is false (v4 and v6)', () => {
  const acl = parseServerAcl({ allow: ['*'], allow_ip_literals: false });
  assert.equal(evaluateServerAcl(acl, '1.2.3.4'), 'deny-ip-literal');
  assert.equal(evaluateServerAcl(acl, '1.2.3.4:8448'), 'deny-ip-literal');
  assert.equal(evaluateServerAcl(acl, '[::1]:8448'), 'deny-ip-literal');
  assert.equal(evaluateServerAcl(acl, 'example.org'), 'allow');
  // "Defaults to true if missing or otherwise not a boolean."
  assert.equal(evaluateServerAcl(parseServerAcl({ allow: ['*'], allow_ip_literals: 'false' }), '1.2.3.4'), 'allow');
  assert.equal(evaluateServerAcl(parseServerAcl({ allow: ['*'] }), '1.2.3.4'), 'allow');
});

test('m.room.server_acl rules 3–5: deny before allow, and no match denies', () => {
  const acl = parseServerAcl({ allow: ['*.example.org'], deny: ['bad.example.org'] });
  assert.equal(evaluateServerAcl(acl, 'good.example.org'), 'allow');
  assert.equal(evaluateServerAcl(acl, 'bad.example.org'), 'deny-listed');
  assert.equal(evaluateServerAcl(acl, 'other.net'), 'deny-not-allowed');
});

test('m.room.server_acl: a missing allow list denies every server, the sender included', () => {
  assert.equal(isServerAllowedByAcl(parseServerAcl({ deny: [] }), 'example.org'), false);
  assert.equal(isServerAllowedByAcl(parseServerAcl({}), 'example.org'), false);
});

test('m.room.server_acl: malformed content is read leniently, never throws', () => {
  assert.equal(isServerAllowedByAcl(parseServerAcl({ allow: 'example.org' }), 'example.org'), false);
  assert.equal(isServerAllowedByAcl(parseServerAcl({ allow: [1, null, 'example.org'] }), 'example.org'), true);
  assert.equal(isServerAllowedByAcl(parseServerAcl('not an object'), 'example.org'), false);
});
