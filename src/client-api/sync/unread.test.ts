// Unread counts counted on from the previous sync (./unread.ts UnreadCache) must equal a
// full scan (client-server § "Receiving notifications") whatever arrived in between.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultPushRules } from '../../rooms/push/index.ts';
import type { SyncRepository } from '../../storage/index.ts';
import type { TimelineRow } from '../../storage/sync-repository.ts';
import { UNREAD_SCAN_LIMIT, UnreadCache, unreadCounts, type UnreadQuery } from './unread.ts';

const ME = '@me:test';
const ROOM = '!room:test';

class FakeRepo {
  rows: TimelineRow[] = [];
  add(sender: string, body: string, extra: Record<string, unknown> = {}, type = 'm.room.message'): void {
    const streamOrdering = this.rows.length + 1;
    const json = JSON.stringify({ type, sender, room_id: ROOM, content: { msgtype: 'm.text', body }, ...extra });
    this.rows.push({ eventId: `$${streamOrdering}`, streamOrdering, type, sender, json, redacted: false });
  }
  async recentEvents(_roomId: string, after: number, upTo: number, limit: number): Promise<TimelineRow[]> {
    return this.rows.filter((r) => r.streamOrdering > after && r.streamOrdering <= upTo).reverse().slice(0, limit);
  }
}

function query(repo: FakeRepo, readPoint = 0): UnreadQuery {
  return {
    roomId: ROOM,
    userId: ME,
    displayName: 'Me',
    readPoint,
    upTo: repo.rows.length,
    ruleset: defaultPushRules(ME),
    facts: async () => ({ memberCount: 2, levelOf: () => 0, notificationLevel: () => 50 }),
  };
}

test('client-server § Receiving notifications: counting on from the previous sync equals a full scan', async () => {
  const repo = new FakeRepo();
  const cache = new UnreadCache();
  const asRepo = repo as unknown as SyncRepository;
  const check = async (label: string, readPoint = 0) => {
    const full = await unreadCounts(asRepo, query(repo, readPoint));
    const counted = await unreadCounts(asRepo, query(repo, readPoint), cache);
    assert.deepEqual(counted, full, label);
    return counted;
  };
  repo.add('@a:test', 'hello');
  assert.deepEqual(await check('one message'), { notification_count: 1, highlight_count: 0 });
  repo.add('@a:test', 'hi Me', { content: { msgtype: 'm.text', body: 'hi Me', 'm.mentions': { user_ids: [ME] } } });
  repo.add('@a:test', 'again');
  const three = await check('mention added');
  assert.equal(three.notification_count, 3);
  assert.equal(three.highlight_count, 1);
  await check('nothing new');
  repo.add(ME, 'my own');
  assert.deepEqual(await check('own event resets'), { notification_count: 0, highlight_count: 0 });
  repo.add('@a:test', 'after mine');
  assert.deepEqual(await check('after own event'), { notification_count: 1, highlight_count: 0 });
  // A redaction hides an event counted before.
  const target = repo.rows.at(-1);
  assert.ok(target !== undefined);
  repo.rows[repo.rows.length - 1] = { ...target, redacted: true };
  repo.add('@a:test', '', { redacts: target.eventId }, 'm.room.redaction');
  assert.equal((await check('redaction')).notification_count, 0);
  // A new read point starts over.
  repo.add('@a:test', 'x');
  await check('read point moved', repo.rows.length - 1);
  // Near the scan limit, counting on must stop where the full scan stops.
  for (let i = 0; i < UNREAD_SCAN_LIMIT - 5; i++) repo.add('@a:test', `bulk ${i}`);
  await check('bulk', 0);
  for (let i = 0; i < 10; i++) repo.add('@a:test', `more ${i}`);
  assert.equal((await check('past the limit', 0)).notification_count, UNREAD_SCAN_LIMIT);
});
