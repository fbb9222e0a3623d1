import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startApp } from '../../http/testing.ts';
import { OpenidTokensRepository } from '../../storage/openid-tokens-repository.ts';
import { describeEngines } from '../../storage/testing.ts';
import { openidUserinfoEndpoint } from './openid-userinfo.ts';

describeEngines('server-server § OpenID: GET /openid/userinfo', (getDb) => {
  test('a token is exchanged for its owner until it expires; expired tokens are purged', async () => {
    let now = 1_000_000;
    const tokens = new OpenidTokensRepository(getDb());
    await tokens.add('tok', '@alice:stoa.test', now + 3_600_000);
    const app = await startApp({ listener: 'federation', endpoints: [openidUserinfoEndpoint({ db: getDb(), clock: () => now })] });
    try {
      const get = () => fetch(`${app.url}/_matrix/federation/v1/openid/userinfo?access_token=tok`);
      let res = await get();
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { sub: '@alice:stoa.test' });
      now += 3_600_000;
      res = await get();
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { errcode: string }).errcode, 'M_UNKNOWN_TOKEN');
      assert.equal(await tokens.purgeExpired(now), 1);
    } finally {
      await app.close();
    }
  });
});
