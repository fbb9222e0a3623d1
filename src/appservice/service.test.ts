// AppServices without a database: rate-limit exemption (registration `rate_limited`) and
// the exclusive-namespace checks (application-service API § "Server admin style permissions").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../logger.ts';
import type { StoaDatabase } from '../storage/index.ts';
import { AppServiceClient } from './client.ts';
import { parseRegistration } from './registration.ts';
import { AppServices } from './service.ts';

const SERVER = 'example.org';
const registration = (id: string, users: string, rateLimited: boolean) =>
  parseRegistration(
    [
      `id: ${id}`,
      'url: null',
      `as_token: as-${id}`,
      `hs_token: hs-${id}`,
      `sender_localpart: ${id}_bot`,
      `rate_limited: ${String(rateLimited)}`,
      'namespaces:',
      `  users: [{ exclusive: true, regex: "${users}" }]`,
      '  aliases: [{ exclusive: true, regex: "#_irc_.*" }]',
    ].join('\n'),
    `${id}.yaml`,
    SERVER,
  );

function services(): AppServices {
  return new AppServices({
    registrations: [registration('irc', '@_irc_.*', false), registration('slack', '@_slack_.*', true)],
    serverName: SERVER,
    db: { kysely: undefined } as unknown as StoaDatabase,
    client: new AppServiceClient(),
    logger: createLogger('fatal'),
    clock: () => 0,
  });
}

test('application-service-api § Registration: rate_limited: false exempts the service\'s users, nobody else', () => {
  const calls: string[] = [];
  const limiter = services().exemptFromRateLimits({ consume: (_bucket, key) => (calls.push(key), 1000) });
  assert.equal(limiter.consume('message', 'user:@_irc_alice:example.org'), 0);
  assert.equal(limiter.consume('message', 'user:@irc_bot:example.org'), 0, 'the sender user too');
  assert.equal(limiter.consume('message', 'user:@_slack_bob:example.org'), 1000, 'a rate-limited service is limited');
  assert.equal(limiter.consume('message', 'user:@carol:example.org'), 1000);
  assert.equal(limiter.consume('login', 'ip:127.0.0.1'), 1000);
  assert.deepEqual(calls, ['user:@_slack_bob:example.org', 'user:@carol:example.org', 'ip:127.0.0.1']);
});

test('application-service-api § Server admin style permissions: exclusive user and alias namespaces', () => {
  const s = services();
  const irc = s.byId('irc');
  assert.throws(() => s.checkUserNotExclusive('@_irc_x:example.org', undefined), { errcode: 'M_EXCLUSIVE' });
  assert.throws(() => s.checkUserNotExclusive('@_irc_x:example.org', s.byId('slack')), { errcode: 'M_EXCLUSIVE' });
  s.checkUserNotExclusive('@_irc_x:example.org', irc);
  s.checkUserNotExclusive('@_irc_x:elsewhere.org', undefined);
  assert.throws(() => s.checkAliasAllowed('#_irc_chan:example.org', '@carol:example.org', undefined), { errcode: 'M_EXCLUSIVE' });
  s.checkAliasAllowed('#_irc_chan:example.org', '@_irc_x:example.org', undefined);
  s.checkAliasAllowed('#_irc_chan:example.org', '@irc_bot:example.org', undefined);
  s.checkAliasAllowed('#other:example.org', '@carol:example.org', undefined);
});

test('application-service-api § Server admin style permissions: tokens of /register and /login', () => {
  const s = services();
  assert.equal(s.serviceForRequest('Bearer as-irc', new URLSearchParams()).id, 'irc');
  assert.equal(s.serviceForRequest('', new URLSearchParams('access_token=as-slack')).id, 'slack');
  assert.throws(() => s.serviceForRequest('', new URLSearchParams()), { errcode: 'M_MISSING_TOKEN' });
  assert.throws(() => s.serviceForRequest('Bearer nope', new URLSearchParams()), { errcode: 'M_UNKNOWN_TOKEN' });
});
