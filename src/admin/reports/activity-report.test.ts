// Activity reports (issue 8 item 7) over a real roomserver and database: messages and
// active senders per day, median response time, media volume; JSON shape and CSV (RFC 4180).

import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/roomserver.ts';
import { localRoomserver, TestKeyring } from '../../roomserver/testing.ts';
import { describeEngines } from '../../storage/testing.ts';
import { buildActivityReport, reportCsv } from './activity-report.ts';

const ALICE = '@alice:local.test';
const BOB = '@bob:local.test';
const DAY = 86_400_000;
const T0 = 20_000 * DAY; // a UTC midnight

describeEngines('activity reports', (getDb) => {
  let now = T0 + 1000;
  let rs: Roomserver;
  let roomId = '';

  before(async () => {
    rs = localRoomserver(getDb(), new TestKeyring(), () => now);
    ({ roomId } = await rs.createRoom({ creator: ALICE, roomVersion: '12', initialState: [{ type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } }] }));
    await rs.setMembership({ roomId, sender: BOB, target: BOB, membership: 'join' });
    const say = async (sender: string, at: number, content: JsonObject = { msgtype: 'm.text', body: 'hi' }): Promise<void> => {
      now = at;
      await rs.sendEvent({ roomId, sender, type: 'm.room.message', content });
    };
    // Day 0: alice, bob after 10 s, alice after 30 s, alice again (not a response).
    await say(ALICE, T0 + 10_000);
    await say(BOB, T0 + 20_000);
    await say(ALICE, T0 + 50_000);
    await say(ALICE, T0 + 60_000, { msgtype: 'm.file', body: 'f', url: 'mxc://local.test/f', info: { size: 500 } });
    // Day 2: bob alone, after alice's last message (a response of 2 days).
    await say(BOB, T0 + 2 * DAY + 5_000, { msgtype: 'm.image', body: 'i', url: 'mxc://local.test/i', info: { size: 700 } });
  });

  test('a room report: per-day messages, active users, medians and declared media sizes', async () => {
    const report = await buildActivityReport(getDb(), { roomId, fromTs: T0, toTs: T0 + 3 * DAY });
    assert.deepEqual(
      report.days.map((d) => [d.date, d.messages, d.active_users, d.median_response_ms, d.media_uploads, d.media_bytes]),
      [
        [new Date(T0).toISOString().slice(0, 10), 4, 2, 20_000, 1, 500],
        [new Date(T0 + DAY).toISOString().slice(0, 10), 0, 0, null, 0, 0],
        [new Date(T0 + 2 * DAY).toISOString().slice(0, 10), 1, 1, 2 * DAY + 5_000 - 60_000, 1, 700],
      ],
    );
    assert.equal(report.totals.messages, 5);
    assert.equal(report.totals.active_users, 2);
    assert.equal(report.totals.responses, 3);
    assert.equal(report.totals.median_response_ms, 30_000);
    assert.equal(report.totals.media_bytes, 1200);
    const csv = reportCsv(report).split('\r\n');
    assert.equal(csv[0], 'date,messages,active_users,median_response_ms,media_uploads,media_bytes');
    assert.equal(csv[2], `${new Date(T0 + DAY).toISOString().slice(0, 10)},0,0,,0,0`);
    assert.equal(csv[4], 'total,5,2,30000,2,1200');
  });

  test('a server report counts every room; the range bounds are [from, to)', async () => {
    const report = await buildActivityReport(getDb(), { roomId: null, fromTs: T0 + DAY, toTs: T0 + 3 * DAY });
    assert.equal(report.days.length, 2);
    assert.equal(report.totals.messages, 1);
    assert.equal(report.totals.active_users, 1);
  });
});
