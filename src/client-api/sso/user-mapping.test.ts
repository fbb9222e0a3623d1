import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidUserLocalpart } from '../../rooms/identifiers.ts';
import { mapToLocalpart, renderTemplate } from './user-mapping.ts';

test('templates substitute {{ user.<claim> }} with filters; a missing claim renders nothing', () => {
  const claims = { preferred_username: 'Alice', email: 'a.b@example.org', n: 3 };
  assert.equal(renderTemplate('{{ user.preferred_username }}', claims), 'Alice');
  assert.equal(renderTemplate('{{user.preferred_username|lower}}-{{ user.n }}', claims), 'alice-3');
  assert.equal(renderTemplate('{{ user.email | localpart_from_email }}', claims), 'a.b');
  assert.equal(renderTemplate('{{ user.missing }}', claims), undefined);
});

test('appendices § Mapping from other character sets: A-Z folded, other bytes and = as =xx', () => {
  assert.equal(mapToLocalpart('Alice.Smith'), 'alice.smith');
  assert.equal(mapToLocalpart('a#b'), 'a=23b');
  assert.equal(mapToLocalpart('á'), '=c3=a1');
  assert.equal(mapToLocalpart('x=y'), 'x=3dy');
  for (const name of ['Ünïcødé name', 'a:b@c', '日本']) assert.ok(isValidUserLocalpart(mapToLocalpart(name)), name);
});
