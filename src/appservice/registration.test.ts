// Registration files (application-service API § "Registration") and namespace matching.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../config/config-error.ts';
import { NamespaceMatcher } from './namespaces.ts';
import { loadRegistrations, parseRegistration } from './registration.ts';

const SERVER = 'example.org';
const VALID = `
id: irc
url: "http://127.0.0.1:1234"
as_token: as-secret
hs_token: hs-secret
sender_localpart: _irc_bot
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: "@_irc_.*"
  aliases:
    - exclusive: false
      regex: "#_irc_.*"
  rooms: []
`;

test('application-service-api § Registration: a valid file is parsed with defaults', () => {
  const r = parseRegistration(VALID, 'irc.yaml', SERVER);
  assert.equal(r.id, 'irc');
  assert.equal(r.url, 'http://127.0.0.1:1234');
  assert.equal(r.senderUserId, '@_irc_bot:example.org');
  assert.equal(r.rateLimited, false);
  assert.equal(r.receiveEphemeral, false);
  assert.deepEqual(r.protocols, []);
  assert.equal(r.namespaces.users.length, 1);
});

test('application-service-api § Registration: url may be null, but must be present', () => {
  assert.equal(parseRegistration(VALID.replace('url: "http://127.0.0.1:1234"', 'url: null'), 'f', SERVER).url, null);
  assert.throws(() => parseRegistration(VALID.replace('url: "http://127.0.0.1:1234"\n', ''), 'f.yaml', SERVER), /f\.yaml: url: is required/);
});

test('application-service-api § Registration: problems name the file and the key', () => {
  const cases: Array<[string, RegExp]> = [
    [VALID.replace('as_token: as-secret\n', ''), /bad\.yaml: as_token: is required/],
    [VALID.replace('regex: "@_irc_.*"', 'regex: "@_irc_(["'), /bad\.yaml: namespaces\.users\[0\]\.regex: is not a valid regular expression/],
    [VALID.replace('    - exclusive: true\n', '    - '), /bad\.yaml: namespaces\.users\[0\]\.exclusive: is required/],
    [VALID.replace('url: "http://127.0.0.1:1234"', 'url: "ftp://x"'), /bad\.yaml: url: must be an http/],
    [VALID.replace('sender_localpart: _irc_bot', 'sender_localpart: "bad bot"'), /bad\.yaml: sender_localpart: /],
    [VALID.replace('rate_limited: false', 'rate_limited: "no"'), /bad\.yaml: rate_limited: must be true or false/],
    ['id: [', /bad\.yaml: invalid YAML/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseRegistration(text, 'bad.yaml', SERVER), (error: unknown) => error instanceof ConfigError && message.test(error.message));
  }
});

test('application-service-api § Registration: ids and as_tokens are unique across files', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'stoa-as-'));
  try {
    const a = path.join(dir, 'a.yaml');
    const b = path.join(dir, 'b.yaml');
    await writeFile(a, VALID);
    await writeFile(b, VALID.replace('id: irc', 'id: other').replace('hs_token: hs-secret', 'hs_token: hs2'));
    await assert.rejects(loadRegistrations([a, b], SERVER), /b\.yaml: as_token: is already the as_token of/);
    await assert.rejects(loadRegistrations([path.join(dir, 'missing.yaml')], SERVER), /missing\.yaml: cannot read/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('application-service-api § Registration: namespaces match local users, exclusive ones reserve them', () => {
  const irc = parseRegistration(VALID, 'irc.yaml', SERVER);
  const logger = parseRegistration(
    VALID.replace('id: irc', 'id: log').replace('as_token: as-secret', 'as_token: t2').replace('_irc_bot', '_log').replace('exclusive: true', 'exclusive: false').replace('"@_irc_.*"', '"@.*"'),
    'log.yaml',
    SERVER,
  );
  const matcher = new NamespaceMatcher([irc, logger], SERVER);
  assert.equal(matcher.isUserOf(irc, '@_irc_alice:example.org'), true);
  assert.equal(matcher.isUserOf(irc, '@_irc_bot:example.org'), true);
  assert.equal(matcher.isUserOf(irc, '@_irc_alice:elsewhere.org'), false, 'remote users are never in a namespace');
  assert.equal(matcher.isUserOf(irc, '@bob:example.org'), false);
  assert.equal(matcher.exclusiveUserOwner('@_irc_alice:example.org'), irc);
  assert.equal(matcher.exclusiveUserOwner('@bob:example.org'), undefined, 'a non-exclusive namespace reserves nothing');
  assert.equal(matcher.exclusiveUserOwner('@_log:example.org'), logger, "a service's sender is its own");
  assert.deepEqual(matcher.servicesForUser('@_irc_x:example.org').map((r) => r.id), ['irc', 'log']);
  assert.equal(matcher.isAliasOf(irc, '#_irc_chan:example.org'), true);
  assert.equal(matcher.exclusiveAliasOwner('#_irc_chan:example.org'), undefined);
});
