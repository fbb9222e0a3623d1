// Spec: appendices, "Server Name" (content/appendices.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidServerName } from './server-name.ts';

test('server names the spec grammar accepts (appendices "Server Name" examples)', () => {
  for (const name of [
    'matrix.org',
    'matrix.org:8888',
    '1.2.3.4',
    '1.2.3.4:1234',
    '[1234:5678::abcd]',
    '[1234:5678::abcd]:5678',
    'localhost',
    'localhost:8008',
    'a',
    'under-score.example', // '-' allowed
  ]) {
    assert.equal(isValidServerName(name), true, name);
  }
});

test('server names the spec grammar refuses', () => {
  for (const name of [
    '',
    'exa mple.org',
    'under_score.example', // '_' is not a dns-char
    'matrix.org:',
    'matrix.org:port',
    'matrix.org:123456', // port is 1*5DIGIT
    '1234:5678::abcd', // IPv6 needs brackets
    '[1234:5678::abcd',
    '[zz::1]',
    'https://matrix.org',
    'matrix.org/path',
    'a'.repeat(256),
    'matrix.org:70000', // a TCP port above 65535 cannot be a server's own name
  ]) {
    assert.equal(isValidServerName(name), false, name);
  }
});
