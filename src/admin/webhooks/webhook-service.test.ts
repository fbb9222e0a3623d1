// The webhook service on every engine (issue 10 item 3): secrets hashed at rest and shown
// once, constant-time checks that do not tell an unknown webhook from a wrong secret,
// revocation, and posts sent through the roomserver as the webhook's sender.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { isMatrixError } from '../../http/matrix-error.ts';
import type { SendEventInput } from '../../roomserver/index.ts';
import { AccountsRepository } from '../../storage/accounts-repository.ts';
import { describeEngines } from '../../storage/testing.ts';
import { WebhookService } from './webhook-service.ts';

const SERVER = 'example.org';
const ROOM = '!room:example.org';
const ALICE = '@alice:example.org';

function errcodeOf(error: unknown): string {
  return isMatrixError(error) ? `${error.status} ${error.errcode}` : String(error);
}

describeEngines('webhook service', (getDb) => {
  const sent: SendEventInput[] = [];
  let service: WebhookService;
  let clock = 1_000;

  test('create: the secret is returned once and stored only as its SHA-256', async () => {
    const accounts = new AccountsRepository(getDb().kysely);
    await accounts.createUser({ userId: ALICE, passwordHash: null, createdTs: 1 });
    await accounts.createUser({ userId: '@gone:example.org', passwordHash: null, createdTs: 1 });
    await accounts.markDeactivated('@gone:example.org');
    service = new WebhookService({
      db: getDb(),
      serverName: SERVER,
      clock: () => clock++,
      roomserver: {
        roomVersion: async (roomId) => (roomId === ROOM ? '12' : undefined),
        sendEvent: async (input) => {
          sent.push(input);
          return { eventId: `$event${sent.length}`, streamOrdering: sent.length };
        },
      },
    });
    const { webhook, secret } = await service.create({ roomId: ROOM, sender: ALICE, name: 'CI', createdBy: '@admin:example.org' });
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    const row = await getDb().kysely.selectFrom('webhooks').selectAll().where('webhook_id', '=', webhook.webhookId).executeTakeFirstOrThrow();
    assert.equal(row.secret_hash, createHash('sha256').update(secret).digest('hex'));
    assert.ok(!JSON.stringify(row).includes(secret));
    assert.equal((await service.authenticate(webhook.webhookId, secret)).webhookId, webhook.webhookId);
  });

  test('create refuses remote, unknown or deactivated senders and unknown rooms', async () => {
    const attempts = [
      { roomId: ROOM, sender: '@bob:elsewhere.example' },
      { roomId: ROOM, sender: '@nobody:example.org' },
      { roomId: ROOM, sender: '@gone:example.org' },
      { roomId: '!other:example.org', sender: ALICE },
    ];
    const outcomes: string[] = [];
    for (const attempt of attempts) {
      outcomes.push(await service.create({ ...attempt, name: 'x', createdBy: '@admin:example.org' }).then(() => 'created', errcodeOf));
    }
    assert.deepEqual(outcomes, ['400 M_INVALID_PARAM', '404 M_NOT_FOUND', '400 M_INVALID_PARAM', '404 M_NOT_FOUND']);
  });

  test('authenticate: wrong, missing and unknown look alike (401); revoked is 403', async () => {
    const { webhook, secret } = await service.create({ roomId: ROOM, sender: ALICE, name: 'auth', createdBy: '@admin:example.org' });
    const outcome = (id: string, s: string | undefined): Promise<string> => service.authenticate(id, s).then(() => 'ok', errcodeOf);
    assert.equal(await outcome(webhook.webhookId, `${secret}x`), '401 M_UNAUTHORIZED');
    assert.equal(await outcome(webhook.webhookId, undefined), '401 M_UNAUTHORIZED');
    assert.equal(await outcome(webhook.webhookId, ''), '401 M_UNAUTHORIZED');
    assert.equal(await outcome('wh_unknown', secret), '401 M_UNAUTHORIZED');
    assert.equal(await service.revoke(webhook.webhookId), true);
    assert.equal(await service.revoke(webhook.webhookId), false, 'revoking twice changes nothing');
    assert.equal(await outcome(webhook.webhookId, secret), '403 M_FORBIDDEN');
    assert.equal(await outcome(webhook.webhookId, 'wrong'), '401 M_UNAUTHORIZED', 'a wrong secret does not learn that it was revoked');
    assert.ok(!(await service.list(false)).some((w) => w.webhookId === webhook.webhookId));
    assert.ok((await service.list(true)).some((w) => w.webhookId === webhook.webhookId && w.revokedTs !== null));
  });

  test('post: an m.room.message from the sender, HTML as formatted_body; use recorded', async () => {
    const { webhook, secret } = await service.create({ roomId: ROOM, sender: ALICE, name: 'post', createdBy: '@admin:example.org' });
    const stored = await service.authenticate(webhook.webhookId, secret);
    sent.length = 0;
    const eventId = await service.post(stored, { text: 'Build passed', html: '<b>Build</b> passed', msgtype: 'm.notice' });
    assert.equal(eventId, '$event1');
    assert.deepEqual(sent, [
      {
        roomId: ROOM,
        sender: ALICE,
        type: 'm.room.message',
        content: { msgtype: 'm.notice', body: 'Build passed', format: 'org.matrix.custom.html', formatted_body: '<b>Build</b> passed' },
      },
    ]);
    assert.equal(typeof (await service.find(webhook.webhookId))?.lastUsedTs, 'number');

    await new AccountsRepository(getDb().kysely).markDeactivated(ALICE);
    assert.equal(await service.post(stored, { text: 'x', msgtype: 'm.text' }).then(() => 'sent', errcodeOf), '403 M_FORBIDDEN');
    assert.equal(sent.length, 1, 'nothing sent for a deactivated sender');
  });
});
