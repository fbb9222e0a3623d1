// Typing, receipts and presence over federation (server-server § "Typing Notifications",
// § "Receipts", § "Presence"), with the ephemeral services, the rooms and the outbox
// replaced by recording fakes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../http/testing.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { ReceivedEdu } from '../server/edus.ts';
import { REMOTE_TYPING_TIMEOUT_MS, startEphemeralEdus } from './index.ts';
import type { PresenceNotice, ReceiptNotice, RemoteReceipt, TypingChangeNotice } from './ports.ts';

const HERE = 'here.example';
const ROOM = '!room:here.example';

function setup() {
  const typingCalls: Array<[string, string, boolean, number | undefined]> = [];
  const receiptsStored: RemoteReceipt[] = [];
  const presenceStored: Array<[string, PresenceNotice]> = [];
  const sent: Array<{ destination: string; edu_type: string; content: JsonObject }> = [];
  const typingListeners: Array<(c: TypingChangeNotice) => void> = [];
  const receiptListeners: Array<(u: ReceiptNotice) => void> = [];
  const presenceListeners: Array<(userId: string, view: PresenceNotice) => void> = [];
  const joined = new Map<string, string[]>([
    [ROOM, ['@alice:here.example', '@bob:b.example', '@carol:c.example', '@carl:c.example']],
    ['!other:here.example', ['@alice:here.example', '@dave:d.example']],
  ]);
  const edus = startEphemeralEdus({
    serverName: HERE,
    rooms: {
      async membership(roomId, userId) {
        return joined.get(roomId)?.includes(userId) === true ? 'join' : undefined;
      },
      async members(roomId) {
        return joined.get(roomId) ?? [];
      },
      async roomsForUser(userId) {
        return [...joined].filter(([, members]) => members.includes(userId)).map(([roomId]) => roomId);
      },
    },
    outbox: {
      async enqueueEdu(destination, edu) {
        sent.push({ destination, ...edu });
      },
    },
    typing: {
      setTyping: (roomId, userId, typing, timeoutMs) => void typingCalls.push([roomId, userId, typing, timeoutMs]),
      onChange: (listener) => {
        typingListeners.push(listener);
        return () => typingListeners.splice(typingListeners.indexOf(listener), 1);
      },
    },
    receipts: {
      storeRemoteReceipt: async (receipt) => void receiptsStored.push(receipt),
      onUpdate: (listener) => {
        receiptListeners.push(listener);
        return () => receiptListeners.splice(receiptListeners.indexOf(listener), 1);
      },
    },
    presence: {
      storeRemotePresence: async (userId, view) => void presenceStored.push([userId, view]),
      onLocalChange: (listener) => {
        presenceListeners.push(listener);
        return () => presenceListeners.splice(presenceListeners.indexOf(listener), 1);
      },
    },
    logger: silentLogger(),
  });
  const receive = (origin: string, eduType: string, content: JsonObject): Promise<void> => {
    const handler = edus.handlers.get(eduType);
    assert.ok(handler, `a handler for ${eduType}`);
    const edu: ReceivedEdu = { origin, eduType, content };
    return handler.handle(edu);
  };
  return { edus, receive, typingCalls, receiptsStored, presenceStored, sent, typingListeners, receiptListeners, presenceListeners };
}

test('§ Typing Notifications: a local change goes to every other server in the room, once each', async () => {
  const t = setup();
  for (const listener of t.typingListeners) listener({ roomId: ROOM, userId: '@alice:here.example', typing: true });
  // A remote user's typing (announced by the service too) is not ours to forward.
  for (const listener of t.typingListeners) listener({ roomId: ROOM, userId: '@bob:b.example', typing: false });
  await t.edus.stop();
  assert.deepEqual(t.sent, [
    { destination: 'b.example', edu_type: 'm.typing', content: { room_id: ROOM, user_id: '@alice:here.example', typing: true } },
    { destination: 'c.example', edu_type: 'm.typing', content: { room_id: ROOM, user_id: '@alice:here.example', typing: true } },
  ]);
});

test('§ Typing Notifications: received typing is applied only for joined users of the origin', async () => {
  const t = setup();
  await t.receive('b.example', 'm.typing', { room_id: ROOM, user_id: '@bob:b.example', typing: true });
  await t.receive('b.example', 'm.typing', { room_id: ROOM, user_id: '@stranger:b.example', typing: true });
  await t.receive('b.example', 'm.typing', { room_id: ROOM, user_id: '@carol:c.example', typing: true });
  await t.receive('b.example', 'm.typing', { room_id: ROOM, user_id: '@bob:b.example', typing: 'yes' });
  await t.receive('b.example', 'm.typing', { room_id: ROOM, user_id: '@bob:b.example', typing: false });
  assert.deepEqual(t.typingCalls, [
    [ROOM, '@bob:b.example', true, REMOTE_TYPING_TIMEOUT_MS],
    [ROOM, '@bob:b.example', false, REMOTE_TYPING_TIMEOUT_MS],
  ]);
});

test('§ Receipts: local public read receipts go out with their thread; private and remote ones do not', async () => {
  const t = setup();
  const base = { roomId: ROOM, eventId: '$e', ts: 1234 };
  for (const listener of t.receiptListeners) {
    listener({ ...base, userId: '@alice:here.example', receiptType: 'm.read', threadId: '$root' });
    listener({ ...base, userId: '@alice:here.example', receiptType: 'm.read.private', threadId: undefined });
    listener({ ...base, userId: '@bob:b.example', receiptType: 'm.read', threadId: undefined });
  }
  await t.edus.stop();
  const content = { [ROOM]: { 'm.read': { '@alice:here.example': { event_ids: ['$e'], data: { ts: 1234, thread_id: '$root' } } } } };
  assert.deepEqual(t.sent, [
    { destination: 'b.example', edu_type: 'm.receipt', content },
    { destination: 'c.example', edu_type: 'm.receipt', content },
  ]);
});

test('§ Receipts: each received entry is checked on its own', async () => {
  const t = setup();
  await t.receive('c.example', 'm.receipt', {
    [ROOM]: {
      'm.read': {
        '@carol:c.example': { event_ids: ['$one'], data: { ts: 10 } },
        '@carl:c.example': { event_ids: ['$two'], data: { ts: 11, thread_id: 'main' } },
        // Not the origin's user, not joined, malformed: each dropped alone.
        '@bob:b.example': { event_ids: ['$three'], data: { ts: 12 } },
        '@ghost:c.example': { event_ids: ['$four'], data: { ts: 13 } },
        '@cecil:c.example': { event_ids: '$five', data: { ts: 14 } },
      },
      'm.read.private': { '@carol:c.example': { event_ids: ['$six'], data: { ts: 15 } } },
    },
    'not-a-room': { 'm.read': {} },
  });
  assert.deepEqual(t.receiptsStored, [
    { roomId: ROOM, userId: '@carol:c.example', receiptType: 'm.read', eventId: '$one', ts: 10 },
    { roomId: ROOM, userId: '@carl:c.example', receiptType: 'm.read', eventId: '$two', ts: 11, threadId: 'main' },
  ]);
});

test('§ Presence: a local change goes to each server sharing a room with the user', async () => {
  const t = setup();
  for (const listener of t.presenceListeners) {
    listener('@alice:here.example', { presence: 'online', last_active_ago: 5, currently_active: true, status_msg: 'hi' });
    listener('@alice:here.example', { presence: 'offline', last_active_ago: 7, status_msg: null });
  }
  await t.edus.stop();
  assert.deepEqual(
    t.sent.map((s) => [s.destination, s.content]),
    [
      ['b.example', { push: [{ user_id: '@alice:here.example', presence: 'online', last_active_ago: 5, currently_active: true, status_msg: 'hi' }] }],
      ['c.example', { push: [{ user_id: '@alice:here.example', presence: 'online', last_active_ago: 5, currently_active: true, status_msg: 'hi' }] }],
      ['d.example', { push: [{ user_id: '@alice:here.example', presence: 'online', last_active_ago: 5, currently_active: true, status_msg: 'hi' }] }],
      ['b.example', { push: [{ user_id: '@alice:here.example', presence: 'offline', last_active_ago: 7 }] }],
      ['c.example', { push: [{ user_id: '@alice:here.example', presence: 'offline', last_active_ago: 7 }] }],
      ['d.example', { push: [{ user_id: '@alice:here.example', presence: 'offline', last_active_ago: 7 }] }],
    ],
  );
});

test('§ Presence: received updates are stored for users of the origin with valid fields only', async () => {
  const t = setup();
  await t.receive('b.example', 'm.presence', {
    push: [
      { user_id: '@bob:b.example', presence: 'unavailable', last_active_ago: 100, status_msg: 'away' },
      { user_id: '@carol:c.example', presence: 'online', last_active_ago: 1 },
      { user_id: '@bob:b.example', presence: 'asleep', last_active_ago: 1 },
      { user_id: '@bob:b.example', presence: 'online', last_active_ago: -1 },
      { user_id: '@bob:b.example', presence: 'online' },
      'junk',
    ],
  });
  await t.receive('b.example', 'm.presence', { push: 'nope' });
  assert.deepEqual(t.presenceStored, [['@bob:b.example', { presence: 'unavailable', last_active_ago: 100, status_msg: 'away' }]]);
});

test('after stop() nothing more is forwarded', async () => {
  const t = setup();
  await t.edus.stop();
  assert.equal(t.typingListeners.length + t.receiptListeners.length + t.presenceListeners.length, 0);
});
