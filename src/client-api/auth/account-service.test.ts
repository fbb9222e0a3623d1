// client-server API § "Client Authentication": accounts, sessions, refresh rotation, soft
// logout and deactivation, through the service and the access-token verifier on a real
// database (both engines).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../http/testing.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { describeEngines } from '../../storage/testing.ts';
import { CachingAccessTokenVerifier } from './access-token-verifier.ts';
import { AccountService, type DeviceChange } from './account-service.ts';
import { hashToken } from './tokens.ts';

describeEngines('account service', (getDb) => {
  let now = 1_700_000_000_000;
  const clock = () => now;
  const left: Array<{ roomId: string; membership: string }> = [];
  const rooms: Record<string, string[]> = { join: ['!a:x', '!b:x'], invite: ['!c:x'], knock: [] };
  let verifier: CachingAccessTokenVerifier;
  let service: AccountService;
  const changes: DeviceChange[] = [];

  const setup = () => {
    // No cache, so each check sees the database.
    verifier = new CachingAccessTokenVerifier({ db: getDb(), clock, logger: silentLogger(), cacheTtlMs: 0 });
    service = new AccountService({
      db: getDb(),
      roomserver: {
        roomsForUser: async (_userId: string, membership: string) => rooms[membership] ?? [],
        setMembership: async (input: { roomId: string; membership: string }) => {
          if (input.roomId === '!b:x') throw new Error('remote room unreachable');
          left.push({ roomId: input.roomId, membership: input.membership });
          return { eventId: '$e', streamOrdering: 1 };
        },
      } as never,
      serverName: 'x',
      clock,
      logger: silentLogger(),
      verifier,
      refreshableTokenLifetimeMs: 60_000,
      loginTokenLifetimeMs: 10_000,
    });
    service.onDeviceChange((change) => void changes.push(change));
  };

  test('registering a taken user ID is M_USER_IN_USE', async () => {
    setup();
    await service.register({ userId: '@alice:x', password: 'pw' });
    await assert.rejects(service.register({ userId: '@alice:x', password: 'pw' }), (e: unknown) => e instanceof MatrixError && e.errcode === 'M_USER_IN_USE');
  });

  test('a session is a device plus a token the verifier recognises; the table holds only its hash', async () => {
    setup();
    const session = await service.issueSession({ userId: '@alice:x', initialDisplayName: 'Phone', refreshable: false });
    assert.deepEqual(await verifier.verify(session.accessToken), { userId: '@alice:x', deviceId: session.deviceId, isGuest: false });
    assert.equal(session.refreshToken, undefined);
    const rows = await getDb().kysely.selectFrom('access_tokens').select('token_hash').execute();
    assert.ok(rows.every((r) => r.token_hash !== session.accessToken));
    assert.ok(rows.some((r) => r.token_hash === hashToken(session.accessToken)));
    assert.equal((await service.devices.find('@alice:x', session.deviceId))?.displayName, 'Phone');
    assert.deepEqual(changes.at(-1), { userId: '@alice:x', deviceId: session.deviceId, change: 'created' });
  });

  test('logging in again on a known device ends its earlier token and keeps its name', async () => {
    setup();
    const first = await service.issueSession({ userId: '@alice:x', deviceId: 'LAPTOP', initialDisplayName: 'Laptop', refreshable: false });
    const second = await service.issueSession({ userId: '@alice:x', deviceId: 'LAPTOP', initialDisplayName: 'Ignored', refreshable: false });
    assert.equal(await verifier.verify(first.accessToken), undefined);
    assert.equal((await verifier.verify(second.accessToken))?.deviceId, 'LAPTOP');
    assert.equal((await service.devices.find('@alice:x', 'LAPTOP'))?.displayName, 'Laptop');
  });

  test('§ Refreshing access tokens: expiry is a soft logout; rotation revokes the old refresh token on first use of the new', async () => {
    setup();
    const session = await service.issueSession({ userId: '@alice:x', refreshable: true });
    assert.equal(session.expiresInMs, 60_000);
    assert.ok(session.refreshToken !== undefined);
    now += 61_000;
    await assert.rejects(verifier.verify(session.accessToken), (e: unknown) =>
      e instanceof MatrixError && e.errcode === 'M_UNKNOWN_TOKEN' && e.extra['soft_logout'] === true,
    );

    const r1 = session.refreshToken;
    const first = await service.refresh(r1);
    // The response was "lost": the client repeats the refresh with the old token.
    const second = await service.refresh(r1);
    assert.equal(await verifier.verify(first.accessToken), undefined, 'the abandoned successor is gone');
    assert.equal((await verifier.verify(second.accessToken))?.userId, '@alice:x');
    // Using the new access token revoked r1.
    await assert.rejects(service.refresh(r1), (e: unknown) => e instanceof MatrixError && e.errcode === 'M_UNKNOWN_TOKEN' && e.extra['soft_logout'] === undefined);
    const third = await service.refresh(second.refreshToken);
    // Until the newest tokens are used, the previous access token still works...
    assert.equal((await verifier.verify(second.accessToken))?.userId, '@alice:x');
    // ...and the first use of the newest access token revokes the previous refresh token
    // together with the access token it issued.
    assert.equal((await verifier.verify(third.accessToken))?.userId, '@alice:x');
    assert.equal(await verifier.verify(second.accessToken), undefined);
    await assert.rejects(service.refresh(second.refreshToken), (e: unknown) => e instanceof MatrixError && e.status === 401);
    await assert.rejects(service.refresh('str_unknown'), (e: unknown) => e instanceof MatrixError && e.status === 401);
  });

  test('deleting devices removes their tokens and reports the deletion', async () => {
    setup();
    const a = await service.issueSession({ userId: '@alice:x', deviceId: 'DA', refreshable: true });
    const b = await service.issueSession({ userId: '@alice:x', deviceId: 'DB', refreshable: false });
    await service.deleteDevices('@alice:x', ['DA', 'NOPE']);
    assert.equal(await verifier.verify(a.accessToken), undefined);
    await assert.rejects(service.refresh(a.refreshToken ?? ''), (e: unknown) => e instanceof MatrixError && e.status === 401);
    assert.equal((await verifier.verify(b.accessToken))?.deviceId, 'DB');
    assert.deepEqual(changes.at(-1), { userId: '@alice:x', deviceId: 'DA', change: 'deleted' });
  });

  test('login tokens are single use and expire', async () => {
    setup();
    const { token } = await service.createLoginToken('@alice:x');
    assert.equal(await service.consumeLoginToken(token), '@alice:x');
    assert.equal(await service.consumeLoginToken(token), undefined);
    const late = await service.createLoginToken('@alice:x');
    now += 10_001;
    assert.equal(await service.consumeLoginToken(late.token), undefined);
  });

  test('deactivation: no password, no devices, no tokens, rooms left (one failing room does not stop the rest)', async () => {
    setup();
    await service.register({ userId: '@bob:x', password: 'pw' });
    const session = await service.issueSession({ userId: '@bob:x', refreshable: false });
    await service.deactivate('@bob:x');
    assert.equal(await verifier.verify(session.accessToken), undefined);
    assert.deepEqual(await service.devices.list('@bob:x'), []);
    const user = await service.accounts.findUser('@bob:x');
    assert.equal(user?.deactivated, true);
    assert.equal(user?.passwordHash, null);
    assert.deepEqual(left, [
      { roomId: '!a:x', membership: 'leave' },
      { roomId: '!c:x', membership: 'leave' },
    ]);
    await assert.rejects(service.register({ userId: '@bob:x', password: 'pw' }), (e: unknown) => e instanceof MatrixError && e.errcode === 'M_USER_IN_USE');
  });

  test('a registration token is counted once per registration and refused when used up', async () => {
    setup();
    await service.accounts.createRegistrationToken({ token: 'once', usesAllowed: 1, expiryTs: null, createdTs: now });
    assert.equal(await service.accounts.registrationTokenUsable('once', now), true);
    await service.register({ userId: '@carol:x', password: 'pw', registrationToken: 'once' });
    assert.equal(await service.accounts.registrationTokenUsable('once', now), false);
    await assert.rejects(service.register({ userId: '@dave:x', password: 'pw', registrationToken: 'once' }), (e: unknown) =>
      e instanceof MatrixError && e.errcode === 'M_FORBIDDEN',
    );
    assert.equal(await service.accounts.userExists('@dave:x'), false, 'the refused registration left no account');
    await service.accounts.createRegistrationToken({ token: 'dated', usesAllowed: null, expiryTs: now + 5, createdTs: now });
    assert.equal(await service.accounts.registrationTokenUsable('dated', now), true);
    assert.equal(await service.accounts.registrationTokenUsable('dated', now + 5), false);
  });
});
