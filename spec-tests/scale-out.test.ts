// Issue 12 item 2, DESIGN.md "Scale": two Stoa processes of one homeserver on one
// PostgreSQL, behind nginx (from Debian, started here), with senders on both. Every client
// must see every event, in the same order, whichever process serves its /sync: stream
// positions stay monotonic across processes (each process announces over LISTEN/NOTIFY the
// position below which it will commit nothing more) and a process's /sync long-polls wake
// for the other's writes. Typing (held in memory) crosses over too.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clientCalls, ok } from './rig/client-calls.ts';
import { request } from './rig/http.ts';
import { nginxBinary, startLoadBalancer, type LoadBalancer } from './rig/nginx.ts';
import { startNodes, startSibling, testPostgresUrl, type SiblingProcess, type TestNode } from './rig/nodes.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

const skip =
  testPostgresUrl() === undefined
    ? 'needs STOA_TEST_POSTGRES_URL (processes share a PostgreSQL database)'
    : nginxBinary() === undefined
      ? 'needs nginx (apt-get install nginx-light; .ci/run installs it)'
      : false;

const USERS = 4;
const MESSAGES_PER_USER = 25;

let node: TestNode;
/** Another homeserver (another site), federating with `node`. */
let remote: TestNode;
let sibling: SiblingProcess;
let lb: LoadBalancer;
const users: RegisteredUser[] = [];
let roomId: string;

before(async () => {
  if (skip !== false) return;
  [node, remote] = (await startNodes(2, { tls: true, engine: 'postgres', configOverrides: { cluster: { heartbeat_ms: 200 } } })) as [TestNode, TestNode];
  sibling = await startSibling(node, { cluster: { role: 'client' } });
  lb = await startLoadBalancer([node.clientUrl, sibling.clientUrl]);
  for (let i = 0; i < USERS; i++) users.push(await registerUser(node, `user${i}`));
});

after(async () => {
  await lb?.stop();
  await sibling?.stop();
  await Promise.all([node?.stop(), remote?.stop()]);
});

/** A call through `base` (the balancer or one process) that must answer 200. */
function call(base: string, user: RegisteredUser, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  return ok(clientCalls(base).call(user, method, path, body));
}

interface SyncRoom {
  timeline?: { events?: Array<{ event_id: string; type: string }>; limited?: boolean };
  ephemeral?: { events?: Array<{ type: string; content: { user_ids?: string[] } }> };
}

function joinedRoom(body: Record<string, unknown>): SyncRoom | undefined {
  return (body['rooms'] as { join?: Record<string, SyncRoom> } | undefined)?.join?.[roomId];
}

const FILTER = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 1000 } } }));

test('two processes behind nginx: every client sees every event in the same order', { skip }, async () => {
  const [creator] = users as [RegisteredUser];
  roomId = String((await call(lb.url, creator, 'POST', '/_matrix/client/v3/createRoom', { preset: 'public_chat' }))['room_id']);
  for (const user of users.slice(1)) await call(lb.url, user, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {});

  // Each user follows the room through the load balancer: its long-polls land on either process.
  const seen: string[][] = users.map(() => []);
  const syncs: Array<Promise<void>> = [];
  const total = USERS * MESSAGES_PER_USER;
  const deadline = Date.now() + 120_000;
  for (const [i, user] of users.entries()) {
    let since = String((await call(lb.url, user, 'GET', `/_matrix/client/v3/sync?filter=${FILTER}`))['next_batch']);
    syncs.push(
      (async () => {
        while ((seen[i] as string[]).length < total && Date.now() < deadline) {
          const body = await call(lb.url, user, 'GET', `/_matrix/client/v3/sync?filter=${FILTER}&timeout=5000&since=${encodeURIComponent(since)}`);
          since = String(body['next_batch']);
          const room = joinedRoom(body);
          assert.notEqual(room?.timeline?.limited, true, 'a gap: the timeline was limited');
          for (const event of room?.timeline?.events ?? []) if (event.type === 'm.room.message') (seen[i] as string[]).push(event.event_id);
        }
      })(),
    );
  }

  // Senders on both processes: alternately straight to each and through the balancer.
  const bases = [node.clientUrl, sibling.clientUrl, lb.url];
  await Promise.all(
    users.map(async (user, u) => {
      for (let m = 0; m < MESSAGES_PER_USER; m++) {
        const base = bases[(u + m) % bases.length] as string;
        await call(base, user, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${m}`, { msgtype: 'm.text', body: `${u}/${m}` });
      }
    }),
  );
  await Promise.all(syncs);

  for (const [i, ids] of seen.entries()) {
    assert.equal(ids.length, total, `user${i} saw ${ids.length} of ${total} messages`);
    assert.equal(new Set(ids).size, total, `user${i} saw a message twice`);
    assert.deepEqual(ids, seen[0], `user${i} saw another order than user0`);
  }
  // The order is the room's stream order, as /messages tells it from either process.
  for (const base of [node.clientUrl, sibling.clientUrl]) {
    const messages = await call(base, creator, 'GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=1000`);
    const chunk = (messages['chunk'] as Array<{ event_id: string; type: string }>).filter((e) => e.type === 'm.room.message');
    assert.deepEqual(chunk.map((e) => e.event_id).reverse(), seen[0]);
  }
});

test('typing set on one process wakes a long-poll on the other', { skip }, async () => {
  const [alice, bob] = users as [RegisteredUser, RegisteredUser];
  const since = String((await call(node.clientUrl, bob, 'GET', `/_matrix/client/v3/sync?filter=${FILTER}`))['next_batch']);
  const poll = call(node.clientUrl, bob, 'GET', `/_matrix/client/v3/sync?filter=${FILTER}&timeout=20000&since=${encodeURIComponent(since)}`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const started = Date.now();
  await call(sibling.clientUrl, alice, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(alice.userId)}`, {
    typing: true,
    timeout: 30000,
  });
  const body = await poll;
  assert.ok(Date.now() - started < 15_000, 'the long-poll was not woken by the typing change');
  const typing = joinedRoom(body)?.ephemeral?.events?.find((e) => e.type === 'm.typing');
  assert.deepEqual(typing?.content.user_ids, [alice.userId]);
});

test('an event written by a client-only process reaches another server through the federation sender process', { skip }, async () => {
  {
    const [alice] = users as [RegisteredUser];
    const zoe = await registerUser(remote, 'zoe');
    const joined = await request(`${remote.clientUrl}/_matrix/client/v3/join/${encodeURIComponent(roomId)}?server_name=${encodeURIComponent(node.serverName)}`, {
      method: 'POST',
      headers: authHeaders(zoe),
      body: {},
    });
    assert.equal(joined.status, 200, joined.text);
    // Written by the client-role process, which sends nothing itself.
    const sent = await call(sibling.clientUrl, alice, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/fed1`, { msgtype: 'm.text', body: 'to the other site' });
    const deadline = Date.now() + 30_000;
    let seen = false;
    while (!seen && Date.now() < deadline) {
      const messages = await request(`${remote.clientUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=20`, { headers: authHeaders(zoe) });
      seen = ((messages.body as { chunk?: Array<{ event_id: string }> } | undefined)?.chunk ?? []).some((e) => e.event_id === sent['event_id']);
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(seen, 'the other server never got the event');
  }
});

test("an admin's shadow ban made on one process holds on the other at once (not at its next minute's reload)", { skip }, async () => {
  const admin = await registerUser(node, 'scaleadmin', { admin: true });
  const spammer = users[3] as RegisteredUser;
  await call(node.clientUrl, admin, 'POST', `/_synapse/admin/v1/users/${encodeURIComponent(spammer.userId)}/shadow_ban`, {});
  const deadline = Date.now() + 5_000;
  let dropped = false;
  for (let i = 0; !dropped && Date.now() < deadline; i++) {
    const sent = await call(sibling.clientUrl, spammer, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/ban${i}`, { msgtype: 'm.text', body: 'spam' });
    const stored = await request(`${node.clientUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(String(sent['event_id']))}`, { headers: authHeaders(admin) });
    dropped = stored.status === 404;
    if (!dropped) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(dropped, 'the client process still took the banned user messages');
});

