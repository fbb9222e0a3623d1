// Acceptance test with a real client: matrix-js-sdk (the library Element is built on) talks
// to a Stoa node exactly as it would to any homeserver. Two users log in, start their own
// /sync loops, create a room, invite, join, exchange 100 messages, see typing and read
// receipts, redact and edit, and a third session paginates the history back to the
// m.room.create event. Everything the clients observe arrives through their /sync loops
// (pending events are kept out of the timeline, so local echo cannot satisfy a check).
//
// Spec sections: client-server-api § Login, § Syncing, § Room creation, § Room membership,
// § Sending events, § Typing notifications, § Receipts, § Redactions, § Getting events for
// a room (/messages), and § Event replacements (m.replace).
//
// When a check times out, its message lists every non-2xx response the clients got
// (method, path, status, errcode), which is usually the missing or broken endpoint.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as sdk from 'matrix-js-sdk';
import { silentSdkLogger as silentLogger } from './rig/js-sdk.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { registerUser } from './rig/users.ts';

const PASSWORD = 'correct horse battery staple';
const MESSAGE_COUNT = 100;
const WAIT_MS = 20_000;

// ---------------------------------------------------------------------------------------
// Failed requests, recorded through the sdk's fetchFn so a timeout can say why.

interface FailedRequest {
  readonly client: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly errcode: string | undefined;
  readonly error: string | undefined;
}

const failures: FailedRequest[] = [];

function recordingFetch(client: string): typeof globalThis.fetch {
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const method = init?.method ?? (typeof input === 'object' && 'method' in input ? input.method : 'GET');
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      // Aborted long-polls at stopClient() are expected, not failures.
      if (!(error instanceof Error && error.name === 'AbortError')) {
        failures.push({ client, method, path: url.pathname, status: 0, errcode: undefined, error: String(error) });
      }
      throw error;
    }
    if (!response.ok) {
      let errcode: string | undefined;
      let message: string | undefined;
      try {
        const body: unknown = await response.clone().json();
        if (typeof body === 'object' && body !== null) {
          const record = body as Record<string, unknown>;
          if (typeof record['errcode'] === 'string') errcode = record['errcode'];
          if (typeof record['error'] === 'string') message = record['error'];
        }
      } catch {
        // Not JSON: the status alone says enough.
      }
      failures.push({ client, method, path: url.pathname, status: response.status, errcode, error: message });
    }
    return response;
  };
}

function failureReport(): string {
  if (failures.length === 0) return 'no failed requests';
  const seen = new Map<string, number>();
  for (const f of failures) {
    const key = `${f.client}: ${f.method} ${f.path} -> ${f.status} ${f.errcode ?? ''} ${f.error ?? ''}`.trim();
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return `failed requests:\n${[...seen].map(([line, n]) => `  ${line}${n > 1 ? ` (x${n})` : ''}`).join('\n')}`;
}

/** Polls `check` until it holds; on timeout fails with `what` and the failed requests. */
async function until(what: string | (() => string), check: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}; ${failureReport()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// ---------------------------------------------------------------------------------------
// Sessions

interface Session {
  readonly name: string;
  readonly client: sdk.MatrixClient;
  readonly userId: string;
}

const sessions: Session[] = [];

/** Logs in with the sdk's own login call (client-server-api § Login, m.login.password). */
async function login(node: TestNode, name: string, localpart: string): Promise<Session> {
  const anonymous = sdk.createClient({ baseUrl: node.clientUrl, logger: silentLogger, fetchFn: recordingFetch(name) });
  const response = await anonymous.loginRequest({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: localpart },
    password: PASSWORD,
    initial_device_display_name: `matrix-js-sdk ${name}`,
  });
  const client = sdk.createClient({
    baseUrl: node.clientUrl,
    accessToken: response.access_token,
    userId: response.user_id,
    deviceId: response.device_id,
    logger: silentLogger,
    fetchFn: recordingFetch(name),
  });
  const session = { name, client, userId: response.user_id };
  sessions.push(session);
  return session;
}

/** Starts the sdk's sync loop and waits for its first successful /sync (state PREPARED). */
async function startSyncing(session: Session, initialSyncLimit: number): Promise<void> {
  let state: sdk.SyncState | null = null;
  session.client.on(sdk.ClientEvent.Sync, (next) => {
    state = next;
  });
  await session.client.startClient({ initialSyncLimit, pendingEventOrdering: sdk.PendingEventOrdering.Detached });
  await until(() => `${session.name}'s sync loop to reach PREPARED (last sync state ${String(state)})`, () => session.client.isInitialSyncComplete());
}

/** Events in the room's live timeline that came from the server (they have server event IDs). */
function timeline(session: Session, roomId: string): sdk.MatrixEvent[] {
  const room = session.client.getRoom(roomId);
  if (room === null) return [];
  return room.getLiveTimeline().getEvents().filter((event) => event.getId()?.startsWith('$') === true);
}

function messageBodies(session: Session, roomId: string): string[] {
  return timeline(session, roomId)
    .filter((event) => event.getType() === 'm.room.message' && !event.isRelation())
    .map((event) => String(event.getOriginalContent()['body'] ?? '<redacted>'));
}

function membershipOf(session: Session, roomId: string, userId: string): string | undefined {
  return session.client.getRoom(roomId)?.getMember(userId)?.membership;
}

// ---------------------------------------------------------------------------------------

describe('matrix-js-sdk against Stoa', { timeout: 240_000 }, () => {
  let node: TestNode;
  let alice: Session;
  let bob: Session;
  let roomId: string;
  const sentIds: string[] = [];
  const typingSeenByAlice: boolean[] = [];
  let receiptsSeenByAlice = 0;

  // Steps build on each other; one that needs a failed step fails at once, naming it,
  // instead of waiting out its own timeouts.
  const passed = new Set<string>();
  const step = (name: string, key: string, needs: readonly string[], fn: () => Promise<void>): void => {
    test(name, async () => {
      for (const need of needs) if (!passed.has(need)) assert.fail(`not run: needs the "${need}" step, which failed`);
      await fn();
      passed.add(key);
    });
  };

  before(async () => {
    [node] = (await startNodes(1)) as [TestNode];
    await registerUser(node, 'alice', { password: PASSWORD });
    await registerUser(node, 'bob', { password: PASSWORD });
  });

  after(async () => {
    for (const session of sessions) session.client.stopClient();
    if (node !== undefined) await stopNodes([node]);
  });

  step('§ Login and § Syncing: both users log in with m.login.password and their sync loops become PREPARED', 'sync', [], async () => {
    alice = await login(node, 'alice', 'alice');
    bob = await login(node, 'bob', 'bob');
    assert.equal(alice.userId, `@alice:${node.serverName}`);
    assert.equal(bob.userId, `@bob:${node.serverName}`);
    await Promise.all([startSyncing(alice, 20), startSyncing(bob, 20)]);

    alice.client.on(sdk.RoomMemberEvent.Typing, (_event, member) => {
      if (member.userId === bob.userId && member.roomId === roomId) typingSeenByAlice.push(member.typing);
    });
    alice.client.on(sdk.RoomEvent.Receipt, (_event, room) => {
      if (room.roomId === roomId) receiptsSeenByAlice += 1;
    });
  });

  step('§ Room creation, § Room membership: alice creates a room and invites bob; bob sees the invite in /sync and joins', 'room', ['sync'], async () => {
    const created = await alice.client.createRoom({ name: 'js-sdk acceptance', preset: sdk.Preset.PrivateChat });
    roomId = created.room_id;
    await until('the new room in alice\'s sync with her join', () => membershipOf(alice, roomId, alice.userId) === 'join');

    await alice.client.invite(roomId, bob.userId);
    await until('bob\'s invite in bob\'s sync (invite section)', () => bob.client.getRoom(roomId)?.getMyMembership() === 'invite');
    await until('bob\'s invite in alice\'s timeline', () => membershipOf(alice, roomId, bob.userId) === 'invite');

    await bob.client.joinRoom(roomId);
    await until('bob\'s join in bob\'s sync', () => bob.client.getRoom(roomId)?.getMyMembership() === 'join');
    await until('bob\'s join in alice\'s timeline', () => membershipOf(alice, roomId, bob.userId) === 'join');
    // Bob joined after the room was set up: his room state must show the room's name and creator.
    assert.equal(bob.client.getRoom(roomId)?.name, 'js-sdk acceptance');
    assert.equal(membershipOf(bob, roomId, alice.userId), 'join');
  });

  step(`§ Sending events: alice and bob exchange ${MESSAGE_COUNT} messages; both timelines receive all of them, in the same order`, 'messages', ['room'], async () => {
    const expected: string[] = [];
    for (let i = 0; i < MESSAGE_COUNT; i++) {
      const sender = i % 2 === 0 ? alice : bob;
      const body = `message ${i} from ${sender.name}`;
      expected.push(body);
      const { event_id } = await sender.client.sendTextMessage(roomId, body);
      assert.match(event_id, /^\$/);
      sentIds.push(event_id);
    }
    assert.equal(new Set(sentIds).size, MESSAGE_COUNT, 'every send returned a distinct event ID');
    for (const session of [alice, bob]) {
      await until(`all ${MESSAGE_COUNT} messages in ${session.name}'s timeline`, () => messageBodies(session, roomId).length >= MESSAGE_COUNT);
      // The sender's copy of each event comes back through /sync with the transaction ID in
      // `unsigned.transaction_id` (§ Transaction identifiers), which is how the sdk retires
      // its local echo; one never retired stays pending for ever.
      await until(
        () => `${session.name}'s local echoes to be matched by their remote echoes; still pending: ${JSON.stringify(session.client.getRoom(roomId)?.getPendingEvents().map((e) => ({ id: e.getId(), txn: e.getTxnId(), status: e.status })).slice(0, 3))}`,
        () => session.client.getRoom(roomId)?.getPendingEvents().length === 0,
      );
      assert.deepEqual(messageBodies(session, roomId), expected, `${session.name}'s timeline order`);
      const ids = timeline(session, roomId).filter((e) => e.getType() === 'm.room.message').map((e) => e.getId());
      assert.deepEqual(ids, sentIds, `${session.name}'s timeline event IDs`);
    }
    const last = timeline(bob, roomId).at(-1);
    assert.equal(last?.getSender(), bob.userId);
    assert.ok(typeof last?.getTs() === 'number' && last.getTs() > 0, 'origin_server_ts is set');
  });

  step('§ Typing notifications: bob starts and stops typing; alice\'s sync reports both', 'typing', ['room'], async () => {
    await bob.client.sendTyping(roomId, true, 30_000);
    await until('alice to see bob typing', () => typingSeenByAlice.includes(true));
    assert.equal(alice.client.getRoom(roomId)?.getMember(bob.userId)?.typing, true);
    await bob.client.sendTyping(roomId, false, 0);
    await until('alice to see bob stop typing', () => typingSeenByAlice.lastIndexOf(false) > typingSeenByAlice.indexOf(true));
    assert.equal(alice.client.getRoom(roomId)?.getMember(bob.userId)?.typing, false);
  });

  step('§ Receipts: bob sends a read receipt for the last message; alice sees bob has read up to it', 'receipts', ['messages'], async () => {
    const lastId = sentIds.at(-1);
    const bobRoom = bob.client.getRoom(roomId);
    const lastEvent = bobRoom?.findEventById(lastId ?? '');
    assert.ok(lastEvent !== undefined, 'bob has the last message');
    const before = receiptsSeenByAlice;
    await bob.client.sendReadReceipt(lastEvent, sdk.ReceiptType.Read);
    await until('alice to receive bob\'s m.receipt', () => receiptsSeenByAlice > before && alice.client.getRoom(roomId)?.getEventReadUpTo(bob.userId) === lastId);
    const aliceEvent = alice.client.getRoom(roomId)?.findEventById(lastId ?? '');
    assert.ok(aliceEvent !== undefined);
    assert.ok(alice.client.getRoom(roomId)?.getUsersReadUpTo(aliceEvent).includes(bob.userId));
  });

  step('§ Redactions: alice redacts her first message; bob\'s copy loses its content', 'redaction', ['messages'], async () => {
    const target = sentIds[0];
    assert.ok(target !== undefined);
    const { event_id: redactionId } = await alice.client.redactEvent(roomId, target, undefined, { reason: 'acceptance test' });
    assert.match(redactionId, /^\$/);
    await until('bob\'s copy of the message to be redacted', () => bob.client.getRoom(roomId)?.findEventById(target)?.isRedacted() === true);
    const redacted = bob.client.getRoom(roomId)?.findEventById(target);
    assert.deepEqual(redacted?.getContent(), {});
    assert.equal(redacted?.getUnsigned().redacted_because?.event_id ?? redacted?.getRedactionEvent()?.event_id, redactionId);
  });

  step('§ Event replacements: bob edits his second message (m.replace); alice shows the new content', 'edit', ['messages'], async () => {
    const target = sentIds[1];
    assert.ok(target !== undefined);
    const { event_id: editId } = await bob.client.sendEvent(roomId, sdk.EventType.RoomMessage, {
      msgtype: sdk.MsgType.Text,
      body: '* edited by bob',
      'm.new_content': { msgtype: sdk.MsgType.Text, body: 'edited by bob' },
      'm.relates_to': { rel_type: sdk.RelationType.Replace, event_id: target },
    });
    await until('alice\'s copy to be replaced by bob\'s edit', () => alice.client.getRoom(roomId)?.findEventById(target)?.replacingEventId() === editId);
    assert.equal(alice.client.getRoom(roomId)?.findEventById(target)?.getContent()['body'], 'edited by bob');
  });

  step('§ Getting events for a room: a fresh session paginates /messages back to m.room.create and sees the whole history', 'history', ['messages'], async () => {
    const late = await login(node, 'bob-second-device', 'bob');
    await startSyncing(late, 5);
    const room = late.client.getRoom(roomId);
    assert.ok(room !== null, 'the room is in the new session\'s initial sync');
    for (let page = 0; room.oldState.paginationToken !== null; page++) {
      assert.ok(page < 100, `pagination did not reach the start after 100 pages; ${failureReport()}`);
      const before = room.getLiveTimeline().getEvents().length;
      await late.client.scrollback(room, 25);
      const gained = room.getLiveTimeline().getEvents().length - before;
      assert.ok(gained > 0 || room.oldState.paginationToken === null, `a /messages page with an end token added no events; ${failureReport()}`);
    }
    const events = timeline(late, roomId);
    assert.equal(events[0]?.getType(), 'm.room.create', 'history starts at m.room.create');
    assert.equal(events.filter((e) => e.getType() === 'm.room.create').length, 1, 'no event appears twice');
    const messages = events.filter((e) => e.getType() === 'm.room.message' && !e.isRelation());
    assert.deepEqual(
      messages.map((e) => e.getId()),
      sentIds,
      'all messages, oldest first',
    );
    if (passed.has('redaction')) assert.equal(messages[0]?.isRedacted(), true, 'the redacted message is redacted in history too');
    if (passed.has('edit')) {
      await until('the edit to apply to history', () => messages[1]?.replacingEvent() !== null);
      assert.equal(messages[1]?.getContent()['body'], 'edited by bob');
    }
    assert.equal(messages[99]?.getContent()['body'], `message 99 from bob`);
  });

  test('no request the clients made was answered with a 5xx', () => {
    const serverErrors = failures.filter((f) => f.status >= 500 || f.status === 0);
    assert.deepEqual(serverErrors, [], failureReport());
  });
});
