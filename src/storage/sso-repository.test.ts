import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AccountsRepository } from './accounts-repository.ts';
import { SsoRepository } from './sso-repository.ts';
import { describeEngines } from './testing.ts';

describeEngines('SsoRepository', (getDb) => {
  const pending = { idpId: 'idp', nonce: 'n', codeVerifier: 'v', redirectUrl: 'https://app/', uiaSessionId: null, createdTs: 1000, expiresTs: 5000 };

  test('a pending login is spent by its first use and not usable after it expires', async () => {
    const repo = new SsoRepository(getDb().kysely);
    await repo.insertPending({ ...pending, state: 's1' });
    await repo.insertPending({ ...pending, state: 's2' });
    assert.deepEqual(await repo.consumePending('s1', 2000), { ...pending, state: 's1' });
    assert.equal(await repo.consumePending('s1', 2000), undefined);
    assert.equal(await repo.consumePending('s2', 5000), undefined);
    assert.equal(await repo.consumePending('nope', 2000), undefined);
    await repo.insertPending({ ...pending, state: 's3' });
    await repo.deleteExpiredPending(6000);
    assert.equal(await repo.consumePending('s3', 10), undefined);
  });

  test('a subject links to one user; a second link of the same subject loses', async () => {
    const db = getDb().kysely;
    const accounts = new AccountsRepository(db);
    for (const userId of ['@a:hs', '@b:hs']) await accounts.createUser({ userId, passwordHash: null, createdTs: 1 });
    const repo = new SsoRepository(db);
    assert.equal(await repo.findLinkedUser('idp', 'sub1'), undefined);
    assert.equal(await repo.link({ idpId: 'idp', subject: 'sub1', userId: '@a:hs', createdTs: 1 }), true);
    assert.equal(await repo.link({ idpId: 'idp', subject: 'sub1', userId: '@b:hs', createdTs: 2 }), false);
    assert.equal(await repo.link({ idpId: 'idp2', subject: 'sub1', userId: '@b:hs', createdTs: 2 }), true);
    assert.equal(await repo.findLinkedUser('idp', 'sub1'), '@a:hs');
    assert.deepEqual(await repo.linkedProviders('@b:hs'), ['idp2']);
  });
});
