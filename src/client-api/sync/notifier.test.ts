// The long-poll notifier (client-server § "Syncing": "returning early if an event occurs").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NewRoomEvent } from '../../roomserver/index.ts';
import { Notifier, type NotifierRoomserver } from './notifier.ts';
import type { AdvanceScope, StreamSource } from './stream-source.ts';

class FakeRoomserver implements NotifierRoomserver {
  safe = 0;
  readonly listeners: Array<(e: NewRoomEvent) => void> = [];
  onNewEvent(listener: (e: NewRoomEvent) => void) {
    this.listeners.push(listener);
    return () => undefined;
  }
  latestStreamPosition() {
    return Promise.resolve(this.safe);
  }
  emit(position: number, roomId: string, target?: string) {
    const event: NewRoomEvent = {
      roomId, eventId: `$${position}`, streamOrdering: position, type: 'm.room.message', stateKey: undefined, sender: '@x:t', origin: 't',
      ...(target === undefined ? {} : { membershipChange: { target, membership: 'invite', previous: undefined } }),
    };
    for (const l of this.listeners) l(event);
  }
}

class FakeSource implements StreamSource {
  readonly streamKey = 't';
  position = 0;
  readonly listeners: Array<(p: number, s?: AdvanceScope) => void> = [];
  currentPosition() {
    return this.position;
  }
  onAdvance(listener: (p: number, s?: AdvanceScope) => void) {
    this.listeners.push(listener);
    return () => undefined;
  }
  advance(scope?: AdvanceScope) {
    this.position++;
    for (const l of this.listeners) l(this.position, scope);
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('notifier: a room event wakes only waiters joined to the room', async () => {
  const rs = new FakeRoomserver();
  const notifier = new Notifier(rs, []);
  const a = notifier.wait({ userId: '@a:t', rooms: ['!r1'], from: { events: 0, streams: {} }, timeoutMs: 5000 });
  const b = notifier.wait({ userId: '@b:t', rooms: ['!r2'], from: { events: 0, streams: {} }, timeoutMs: 200 });
  rs.safe = 1;
  rs.emit(1, '!r1');
  assert.equal(await a, 'woken');
  assert.equal(await b, 'timeout');
  notifier.close();
});

test('notifier: a membership change wakes its target even outside the room', async () => {
  const rs = new FakeRoomserver();
  const notifier = new Notifier(rs, []);
  const waiting = notifier.wait({ userId: '@bob:t', rooms: [], from: { events: 0, streams: {} }, timeoutMs: 5000 });
  rs.safe = 1;
  rs.emit(1, '!r1', '@bob:t');
  assert.equal(await waiting, 'woken');
  notifier.close();
});

test('notifier: an event committed above an in-flight one is announced once the safe position covers it', async () => {
  const rs = new FakeRoomserver();
  const notifier = new Notifier(rs, []);
  let settled: string | undefined;
  void notifier.wait({ userId: '@a:t', rooms: ['!r1'], from: { events: 0, streams: {} }, timeoutMs: 5000 }).then((o) => (settled = o));
  rs.safe = 0; // 1 is still in flight
  rs.emit(2, '!r1');
  await tick();
  assert.equal(settled, undefined);
  rs.safe = 2;
  rs.emit(1, '!r9');
  await tick();
  assert.equal(settled, 'woken');
  notifier.close();
});

test('notifier: an event announced before the waiter registered still wakes it (no lost wake-up)', async () => {
  const rs = new FakeRoomserver();
  const notifier = new Notifier(rs, []);
  rs.safe = 1;
  rs.emit(1, '!r1');
  await tick();
  assert.equal(await notifier.wait({ userId: '@a:t', rooms: ['!r1'], from: { events: 0, streams: {} }, timeoutMs: 5000 }), 'woken');
  // Already seen: not woken again.
  assert.equal(await notifier.wait({ userId: '@a:t', rooms: ['!r1'], from: { events: 1, streams: {} }, timeoutMs: 50 }), 'timeout');
  notifier.close();
});

test('notifier: source advances wake by scope; no scope wakes everyone', async () => {
  const rs = new FakeRoomserver();
  const source = new FakeSource();
  const notifier = new Notifier(rs, [source]);
  const a = notifier.wait({ userId: '@a:t', rooms: ['!r1'], from: { events: 0, streams: { t: 0 } }, timeoutMs: 5000 });
  const b = notifier.wait({ userId: '@b:t', rooms: ['!r2'], from: { events: 0, streams: { t: 0 } }, timeoutMs: 5000 });
  source.advance({ rooms: ['!r1'] });
  assert.equal(await a, 'woken');
  assert.equal(notifier.waiting, 1);
  source.advance();
  assert.equal(await b, 'woken');
  notifier.close();
});

test('notifier: close() wakes every waiter and refuses new ones; abort ends a wait', async () => {
  const rs = new FakeRoomserver();
  const notifier = new Notifier(rs, []);
  const controller = new AbortController();
  const aborted = notifier.wait({ userId: '@a:t', rooms: [], from: { events: 0, streams: {} }, timeoutMs: 60_000, signal: controller.signal });
  controller.abort();
  assert.equal(await aborted, 'aborted');
  const waiting = notifier.wait({ userId: '@a:t', rooms: [], from: { events: 0, streams: {} }, timeoutMs: 60_000 });
  notifier.close();
  assert.equal(await waiting, 'closed');
  assert.equal(await notifier.wait({ userId: '@a:t', rooms: [], from: { events: 0, streams: {} }, timeoutMs: 60_000 }), 'closed');
  assert.equal(notifier.waiting, 0);
});

test('notifier: waiters handed the same rooms list share it; one leaving keeps the others indexed', async () => {
  const rs = new FakeRoomserver();
  const source = new FakeSource();
  const notifier = new Notifier(rs, [source]);
  const rooms = ['!r1', '!r2'];
  const from = { events: 0, streams: { t: 0 } };
  const gone = new AbortController();
  const leaving = notifier.wait({ userId: '@a:t', rooms, from, timeoutMs: 5000, signal: gone.signal });
  const staying = notifier.wait({ userId: '@a:t', rooms, from, timeoutMs: 5000 });
  const byScope = notifier.wait({ userId: '@a:t', rooms, from, timeoutMs: 5000 });
  gone.abort();
  assert.equal(await leaving, 'aborted');
  assert.equal(notifier.waiting, 2);
  source.advance({ rooms: ['!r2'] });
  assert.equal(await byScope, 'woken');
  // `staying` was woken by the same advance: a room-scoped advance reaches every waiter of the group.
  assert.equal(await staying, 'woken');
  assert.equal(notifier.waiting, 0);
  // The list registers again once its group emptied.
  const again = notifier.wait({ userId: '@a:t', rooms, from: { events: 0, streams: { t: 1 } }, timeoutMs: 5000 });
  rs.safe = 1;
  rs.emit(1, '!r2');
  assert.equal(await again, 'woken');
  notifier.close();
});
