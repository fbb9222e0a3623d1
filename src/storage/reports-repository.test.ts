import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReportsRepository } from './reports-repository.ts';
import { describeEngines } from './testing.ts';

describeEngines('ReportsRepository (client-server § "Reporting Content")', (getDb) => {
  test('stores event, room and user reports and lists them newest first, by page', async () => {
    const reports = new ReportsRepository(getDb());
    const first = await reports.add({ ts: 1, reporter: '@a:x', kind: 'event', roomId: '!r:x', eventId: '$e', reason: 'rude', score: -100 });
    await reports.add({ ts: 2, reporter: '@a:x', kind: 'room', roomId: '!r:x', reason: '' });
    const last = await reports.add({ ts: 3, reporter: '@b:x', kind: 'user', targetUserId: '@c:x', reason: 'spam' });
    const page = await reports.list({ limit: 2 });
    assert.deepEqual(page.map((r) => r.id), [last, last - 1]);
    assert.deepEqual(page[0], { id: last, ts: 3, reporter: '@b:x', kind: 'user', targetUserId: '@c:x', reason: 'spam' });
    const next = await reports.list({ limit: 2, before: last - 1 });
    assert.deepEqual(next, [{ id: first, ts: 1, reporter: '@a:x', kind: 'event', roomId: '!r:x', eventId: '$e', reason: 'rude', score: -100 }]);
  });
});
