// Retention and legal hold (issue 8 items 3 and 4) against a real roomserver and database:
// "retention purges what it should and nothing under hold". m.room.retention is MSC1763 /
// Synapse's docs/message_retention_policies.md; a purge stores the event's redacted form
// (client-server § "Redactions", rooms/v11 "Redactions"), so exports still verify.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { RetentionConfig } from '../../config/types.ts';
import { createLogger } from '../../logger.ts';
import type { Roomserver, StateEventInput } from '../../roomserver/roomserver.ts';
import { localRoomserver, testKey, TestKeyring } from '../../roomserver/testing.ts';
import { describeEngines } from '../../storage/testing.ts';
import { AuditLog } from '../audit-log/audit-log.ts';
import { FILES } from '../export/bundle-format.ts';
import { exportRoom } from '../export/exporter.ts';
import { verifyExport } from '../export/verifier.ts';
import { LegalHolds } from '../legal-hold/legal-holds.ts';
import { effectivePolicy, policyOfStateEvent, purgeCutoff } from './policy.ts';
import { RetentionJob } from './purge-job.ts';

const ALICE = '@alice:local.test';
const CAROL = '@carol:local.test';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const CONFIG: RetentionConfig = {
  enabled: true,
  default_policy: { min_lifetime: null, max_lifetime: DAY },
  allowed_lifetime_min: null,
  allowed_lifetime_max: null,
  purge_interval_ms: HOUR,
  redaction_retention_period_ms: HOUR,
  delete_media: true,
};

test('message retention policies § effective policy: room policy, server default, allowed bounds, min_lifetime', () => {
  const bounded = { ...CONFIG, allowed_lifetime_min: HOUR, allowed_lifetime_max: 7 * DAY };
  assert.deepEqual(effectivePolicy(undefined, CONFIG), { minLifetime: null, maxLifetime: DAY });
  assert.deepEqual(effectivePolicy({ minLifetime: null, maxLifetime: 60_000 }, bounded), { minLifetime: null, maxLifetime: HOUR });
  assert.deepEqual(effectivePolicy({ minLifetime: null, maxLifetime: 30 * DAY }, bounded), { minLifetime: null, maxLifetime: 7 * DAY });
  assert.deepEqual(effectivePolicy({ minLifetime: null, maxLifetime: null }, bounded), { minLifetime: null, maxLifetime: 7 * DAY });
  assert.equal(purgeCutoff({ minLifetime: 2 * DAY, maxLifetime: DAY }, 10 * DAY), 8 * DAY, 'min_lifetime wins over a shorter max_lifetime');
  assert.equal(purgeCutoff({ minLifetime: null, maxLifetime: null }, 10 * DAY), undefined);
  assert.deepEqual(policyOfStateEvent(JSON.stringify({ content: { max_lifetime: 5000, min_lifetime: 'x' } })), { minLifetime: null, maxLifetime: 5000 });
  assert.equal(policyOfStateEvent('not json'), undefined);
});

describeEngines('retention purge and legal hold', (getDb) => {
  let now = 1_750_000_000_000;
  const clock = (): number => now;
  let rs: Roomserver;
  let work = '';
  const deletedMedia: string[] = [];
  /** Rooms the job told the roomserver to forget, in order. */
  const forgotten: string[] = [];
  let job: RetentionJob;
  let holds: LegalHolds;
  let audit: AuditLog;

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'stoa-retention-'));
    rs = localRoomserver(getDb(), new TestKeyring(), clock);
    audit = new AuditLog(getDb(), clock);
    holds = new LegalHolds(getDb(), clock);
    job = new RetentionJob({
      db: getDb(),
      config: CONFIG,
      serverName: 'local.test',
      audit,
      logger: createLogger('fatal'),
      clock,
      rooms: {
        forgetRoom: (roomId) => {
          forgotten.push(roomId);
          rs.forgetRoom(roomId);
        },
      },
      media: {
        delete: async (_server, mediaId) => {
          deletedMedia.push(mediaId);
          return true;
        },
      },
    });
  });
  after(async () => {
    await job.close();
    await rm(work, { recursive: true, force: true });
  });

  async function room(extraState: StateEventInput[] = []): Promise<string> {
    now += 1; // v12 room IDs derive from the create event: distinct times, distinct rooms
    const { roomId } = await rs.createRoom({
      creator: ALICE,
      roomVersion: '12',
      initialState: [{ type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } }, ...extraState],
    });
    await rs.setMembership({ roomId, sender: CAROL, target: CAROL, membership: 'join' });
    return roomId;
  }
  async function say(roomId: string, sender: string, body: string, extra: Record<string, unknown> = {}): Promise<string> {
    return (await rs.sendEvent({ roomId, sender, type: 'm.room.message', content: { msgtype: 'm.text', body, ...extra } })).eventId;
  }
  async function stored(eventId: string): Promise<Record<string, unknown>> {
    const row = await getDb().kysely.selectFrom('events').select('json').where('event_id', '=', eventId).executeTakeFirstOrThrow();
    return JSON.parse(row.json) as Record<string, unknown>;
  }
  const bodyOf = async (eventId: string): Promise<unknown> => ((await stored(eventId))['content'] as Record<string, unknown>)['body'];

  test('retention purges expired messages (content only), never state, the latest event or anything held; holds are honoured until released', async () => {
    const open = await room();
    const heldRoom = await room([{ type: 'm.room.retention', stateKey: '', content: { max_lifetime: HOUR } }]);
    const aliceOld = [await say(open, ALICE, 'old 1'), await say(open, ALICE, 'old 2', { url: 'mxc://local.test/onlyhere' })];
    const carolOld = await say(open, CAROL, 'carol old', { url: 'mxc://local.test/carolfile' });
    const heldOld = await say(heldRoom, ALICE, 'held room message');
    const roomHold = await holds.create({ scope: 'room', target: heldRoom, reason: 'litigation 42', createdBy: '@officer:local.test' });
    const userHold = await holds.create({ scope: 'user', target: CAROL, reason: 'investigation', createdBy: '@officer:local.test' });

    now += 2 * DAY;
    const recent = await say(open, ALICE, 'recent');
    const heldLatest = await say(heldRoom, ALICE, 'latest');

    forgotten.length = 0;
    const first = await job.run();
    assert.equal(first.expired[open], 2, 'alice\'s two old messages in the open room');
    assert.equal(first.expired[heldRoom], undefined, 'nothing in the held room');
    assert.deepEqual(forgotten, [open], 'the roomserver forgets what it cached of the room purged, and only of it');
    for (const id of aliceOld) {
      const json = await stored(id);
      assert.deepEqual(json['content'], {}, 'content removed');
      assert.equal(typeof json['hashes'], 'object', 'hashes and signatures kept');
      assert.ok(Array.isArray(json['prev_events']), 'DAG links kept');
    }
    assert.equal(await bodyOf(carolOld), 'carol old', 'a held user\'s events are kept');
    assert.equal(await bodyOf(heldOld), 'held room message', 'a held room is kept');
    assert.equal(await bodyOf(recent), 'recent', 'not expired');
    assert.equal(await bodyOf(heldLatest), 'latest');
    assert.deepEqual(deletedMedia, ['onlyhere'], 'media only a purged event named is deleted; held media is not');
    const state = await getDb().kysely.selectFrom('events').select('event_id').where('room_id', '=', open).where('state_key', 'is not', null).execute();
    for (const { event_id } of state) assert.notDeepEqual((await stored(event_id))['content'], {}, `state event ${event_id} kept`);

    const entries = await audit.read(0, 100);
    const purgeEntry = entries.find((e) => e.action === 'retention-purge');
    assert.equal(purgeEntry?.details['expired_events'], 2, 'the run is in the audit log');
    const record = await getDb().kysely.selectFrom('purged_events').selectAll().where('room_id', '=', open).execute();
    assert.deepEqual(record.map((r) => r.event_id).sort(), [...aliceOld].sort(), 'each purged event is recorded');

    // The export still verifies: a purged event is its own redacted form.
    const dir = path.join(work, 'open');
    const { manifest } = await exportRoom({ db: getDb(), serverName: 'local.test', signingKey: testKey(1), stateBefore: (id) => rs.stateAt(id, 'before'), clock }, { roomId: open, outDir: dir });
    assert.equal(manifest.counts.content_purged, 2);
    const report = await verifyExport(dir, { workers: 0 });
    assert.equal(report.ok, true, report.problems.map((p) => p.message).join('\n'));
    const lines = (await readFile(path.join(dir, FILES.events), 'utf8')).split('\n').filter((l) => l.includes('"content_purged":true'));
    assert.equal(lines.length, 2);

    await holds.release(roomHold.holdId, '@officer:local.test');
    await holds.release(userHold.holdId, '@officer:local.test');
    forgotten.length = 0;
    const second = await job.run();
    assert.deepEqual([...forgotten].sort(), [open, heldRoom].sort());
    assert.equal(second.expired[open], 1, 'carol\'s message once her hold is released');
    assert.equal(second.expired[heldRoom], 1, 'the room\'s old message once its hold is released');
    assert.equal(await bodyOf(heldLatest), 'latest', 'the latest event stays');
    assert.deepEqual(deletedMedia, ['onlyhere', 'carolfile']);
    assert.equal((await job.run()).expiredTotal, 0, 'nothing is purged twice');
  });

  test('redaction pruning drops a redacted event\'s original after the period, but not under hold', async () => {
    const roomId = await room([{ type: 'm.room.retention', stateKey: '', content: { max_lifetime: 365 * DAY } }]);
    const secret = await say(roomId, ALICE, 'regret this');
    const other = await say(roomId, CAROL, 'carol regrets too');
    await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.redaction', redacts: secret, content: {} });
    await rs.sendEvent({ roomId, sender: CAROL, type: 'm.room.redaction', redacts: other, content: {} });
    const hold = await holds.create({ scope: 'user', target: CAROL, reason: 'keep', createdBy: '@officer:local.test' });
    now += 2 * HOUR;
    forgotten.length = 0;
    const summary = await job.run();
    assert.equal(summary.redactionsPruned, 1);
    assert.deepEqual(forgotten, [roomId], 'pruning a redacted original also empties the room\'s caches');
    assert.equal(await bodyOf(secret), undefined, 'the original is pruned');
    assert.equal(await bodyOf(other), 'carol regrets too', 'held: the original stays for export');
    await holds.release(hold.holdId, '@officer:local.test');
    assert.equal((await job.run()).redactionsPruned, 1);
    assert.equal(await bodyOf(other), undefined);
  });
});
