// One event waking many /sync long-polls at once (client-server § "Syncing"): the woken
// requests share their reads (src/client-api/sync/shared-reads.ts) and identical requests
// share one build, yet each must get exactly what a fresh sync from its token returns:
// its own device's `transaction_id`, its own filter, its own rooms. The node is assembled
// in-process like spec-tests/sync.test.ts (a real Roomserver on PGlite behind the real
// sync endpoint); every response is checked against the spec's OpenAPI.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Agent, fetch } from 'undici';
import type { AccessTokenVerifier, Requester } from '../src/http/define-endpoint.ts';
import { silentLogger, startApp, type RunningApp } from '../src/http/testing.ts';
import { createEphemeralServices, type EphemeralServices } from '../src/client-api/ephemeral/index.ts';
import { syncEndpoints } from '../src/client-api/endpoints/sync/index.ts';
import { SyncService } from '../src/client-api/sync/sync-service.ts';
import type { JsonObject } from '../src/rooms/json.ts';
import { localRoomserver, TestKeyring } from '../src/roomserver/testing.ts';
import type { Roomserver } from '../src/roomserver/index.ts';
import { FiltersRepository, migrateToLatest } from '../src/storage/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/storage/testing.ts';
import { expectSpecResponse } from './rig/openapi.ts';

const ALICE = '@alice:fanout.test';
const BOB = '@bob:fanout.test';
const CAROL = '@carol:fanout.test';
const TOKENS: Record<string, Requester> = {
  alice: { userId: ALICE, deviceId: 'ALICEDEV', isGuest: false },
  alice2: { userId: ALICE, deviceId: 'OTHERDEV', isGuest: false },
  bob: { userId: BOB, deviceId: 'BOBDEV', isGuest: false },
  carol: { userId: CAROL, deviceId: 'CAROLDEV', isGuest: false },
};

let database: TestDatabase;
let rs: Roomserver;
let service: SyncService;
let ephemeral: EphemeralServices;
let app: RunningApp;
const noKeepAlive = new Agent({ pipelining: 0 });

before(async () => {
  database = await createTestDatabase('pglite');
  const report = await migrateToLatest(database.db);
  if (report.error !== undefined) throw report.error;
  rs = localRoomserver(database.db, new TestKeyring());
  await database.db.kysely
    .insertInto('users')
    .values([ALICE, BOB, CAROL].map((user_id) => ({ user_id, password_hash: null, created_ts: Date.now() })))
    .execute();
  ephemeral = createEphemeralServices({ db: database.db, roomserver: rs, serverName: 'fanout.test', logger: silentLogger(), clock: Date.now });
  service = new SyncService({
    roomserver: rs,
    db: database.db,
    clock: Date.now,
    sources: { typing: ephemeral.typing, receipts: ephemeral.receipts, accountData: ephemeral.accountData, presence: ephemeral.presence },
  });
  const filters = new FiltersRepository(database.db);
  const accessTokens: AccessTokenVerifier = { verify: (token) => Promise.resolve(TOKENS[token]) };
  app = await startApp({ endpoints: syncEndpoints(service, filters), accessTokens });
});

after(async () => {
  service?.close();
  await app?.close();
  await ephemeral?.close();
  await database?.dispose();
  await noKeepAlive.close();
});

async function sync(token: string, params: Record<string, string>): Promise<JsonObject> {
  const res = await fetch(`${app.url}/_matrix/client/v3/sync?${new URLSearchParams(params).toString()}`, {
    dispatcher: noKeepAlive,
    headers: { Authorization: `Bearer ${token}` },
  });
  const body = (await res.json()) as JsonObject;
  expectSpecResponse({ status: res.status, body }, 'sync');
  assert.equal(res.status, 200);
  return body;
}

/** The response without `unsigned.age` (the only part that depends on when it was computed). */
function ageless(body: JsonObject): unknown {
  return JSON.parse(JSON.stringify(body, (key, value: unknown) => (key === 'age' ? undefined : value)));
}

function timelineEvents(body: JsonObject, roomId: string): JsonObject[] {
  const room = (body['rooms'] as { join?: Record<string, { timeline: { events: JsonObject[] } }> } | undefined)?.join?.[roomId];
  return room?.timeline.events ?? [];
}

async function parked(count: number): Promise<void> {
  for (let i = 0; i < 3000 && service.notifier.waiting < count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(service.notifier.waiting, count);
}

test('client-server § Syncing: one event wakes many long-polls; each sees what a fresh sync from its token sees', async () => {
  const { roomId } = await rs.createRoom({
    creator: ALICE,
    roomVersion: '12',
    initialState: [
      { type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } },
      { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'shared' } },
    ],
  });
  for (const user of [BOB, CAROL]) await rs.setMembership({ roomId, sender: user, target: user, membership: 'join' });
  const onlyMembers = JSON.stringify({ room: { timeline: { types: ['m.room.member'] } } });
  const since: Record<string, string> = {};
  for (const token of ['alice', 'alice2', 'bob', 'carol']) since[token] = (await sync(token, {}))['next_batch'] as string;
  let bobFiltered = (await sync('bob', { filter: onlyMembers }))['next_batch'] as string;
  // Each initial sync brought its user online (presence news for the others): catch up.
  for (const token of ['alice', 'alice2', 'bob', 'carol']) {
    since[token] = (await sync(token, { since: since[token]!, timeout: '0' }))['next_batch'] as string;
  }
  bobFiltered = (await sync('bob', { since: bobFiltered, timeout: '0', filter: onlyMembers }))['next_batch'] as string;

  // Identical requests (alice ×3, bob ×2), another device of the same user, another user,
  // and a filter the message does not pass.
  const polls = [
    ...['alice', 'alice', 'alice', 'alice2', 'bob', 'bob', 'carol'].map((token) => ({
      token,
      params: { since: since[token]!, timeout: '20000' },
    })),
    { token: 'bob', params: { since: bobFiltered, timeout: '20000', filter: onlyMembers } },
  ];
  const answers = polls.map((poll) => sync(poll.token, poll.params));
  await parked(polls.length);
  // Each build starts by listing the user's joined rooms: count alice's builds.
  let aliceBuilds = 0;
  const roomsForUser = rs.roomsForUser.bind(rs);
  rs.roomsForUser = (userId, membership) => {
    if (userId === ALICE && membership === 'join') aliceBuilds++;
    return roomsForUser(userId, membership);
  };
  const sent = await rs.sendEvent({
    roomId,
    sender: ALICE,
    type: 'm.room.message',
    content: { msgtype: 'm.text', body: 'wake' },
    txnId: 'fan1',
    deviceId: 'ALICEDEV',
  });
  const woken = await Promise.all(answers.slice(0, 7));
  rs.roomsForUser = roomsForUser;
  assert.equal(aliceBuilds, 2, 'one build for the three identical requests, one for the other device');
  // The filtered one is still waiting: the message does not pass its filter.
  await parked(1);

  for (const [i, body] of woken.entries()) {
    const poll = polls[i]!;
    const fresh = await sync(poll.token, { ...poll.params, timeout: '0' });
    assert.deepEqual(ageless(body), ageless(fresh), `${poll.token} #${i}`);
    const events = timelineEvents(body, roomId);
    assert.deepEqual(events.map((e) => e['event_id']), [sent.eventId]);
    const txnId = (events[0]?.['unsigned'] as JsonObject | undefined)?.['transaction_id'];
    assert.equal(txnId, poll.token === 'alice' ? 'fan1' : undefined, `transaction_id for ${poll.token}`);
  }

  // A member event passes the filter: the last poll wakes with it and nothing else.
  await rs.setMembership({ roomId, sender: CAROL, target: CAROL, membership: 'leave' });
  const filtered = await answers[7]!;
  const types = timelineEvents(filtered, roomId).map((e) => e['type']);
  assert.deepEqual(types, ['m.room.member']);
});
