// The application-service transaction queue on every engine (application-service API
// § "Pushing events": ordered, durable, same transaction ID and events on retry).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppServiceRepository } from './appservice-repository.ts';
import { EventConsumersRepository } from './event-consumers-repository.ts';
import { describeEngines } from './testing.ts';

const event = (n: number) => ({ kind: 'event' as const, json: JSON.stringify({ n }) });

describeEngines('AppServiceRepository', (getDb) => {
  test('queued rows and the stream position are written together; transactions keep order', async () => {
    const repo = new AppServiceRepository(getDb().kysely);
    await repo.enqueue('bridge', [event(1), event(2), event(3)], 'appservice:bridge', 10, 1);
    assert.equal(await new EventConsumersRepository(getDb().kysely).position('appservice:bridge'), 10);
    const first = await repo.nextTransaction('bridge', 2);
    assert.ok(first !== undefined);
    assert.deepEqual(first.items.map((i) => JSON.parse(i.json).n), [1, 2]);
    // More events arrive while the transaction is unacknowledged: a retry is unchanged.
    await repo.enqueue('bridge', [event(4)], 'appservice:bridge', 11, 2);
    const retry = await repo.nextTransaction('bridge', 10);
    assert.deepEqual(retry, first);
    await repo.completeTransaction('bridge', first.txnId);
    const second = await repo.nextTransaction('bridge', 10);
    assert.ok(second !== undefined);
    assert.ok(second.txnId > first.txnId, 'transaction IDs increase');
    assert.deepEqual(second.items.map((i) => JSON.parse(i.json).n), [3, 4]);
    await repo.completeTransaction('bridge', second.txnId);
    assert.equal(await repo.nextTransaction('bridge', 10), undefined);
    assert.equal(await repo.pendingCount('bridge'), 0);
  });

  test('each service has its own queue', async () => {
    const repo = new AppServiceRepository(getDb().kysely);
    await repo.enqueue('a', [event(1)], 'appservice:a', 1, 1);
    await repo.enqueueEphemeral('b', [JSON.stringify({ type: 'm.typing' })], 1);
    const a = await repo.nextTransaction('a', 10);
    const b = await repo.nextTransaction('b', 10);
    assert.deepEqual(a?.items.map((i) => i.kind), ['event']);
    assert.deepEqual(b?.items.map((i) => i.kind), ['ephemeral']);
    await repo.completeTransaction('a', a?.txnId ?? -1);
    assert.equal(await repo.pendingCount('a'), 0);
    assert.equal(await repo.pendingCount('b'), 1);
  });
});
