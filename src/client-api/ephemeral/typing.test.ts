// client-server § "Typing Notifications": typing with timeouts, driven by a hand-moved clock.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Scheduler } from './scheduler.ts';
import { MAX_TYPING_TIMEOUT_MS, TypingService } from './typing.ts';

const ROOM = '!room:local.test';
const OTHER_ROOM = '!other:local.test';
const ALICE = '@alice:local.test';
const BOB = '@bob:local.test';

/** A clock and scheduler that only move when the test says so. */
function manualTime() {
  let now = 1_000_000;
  const tasks: Array<{ at: number; task: () => void; cancelled: boolean }> = [];
  const schedule: Scheduler = (task, delayMs) => {
    const entry = { at: now + delayMs, task, cancelled: false };
    tasks.push(entry);
    return () => {
      entry.cancelled = true;
    };
  };
  return {
    clock: () => now,
    schedule,
    pending: () => tasks.filter((t) => !t.cancelled).length,
    advance(ms: number) {
      now += ms;
      for (const entry of tasks.splice(0).sort((a, b) => a.at - b.at)) {
        if (entry.cancelled) continue;
        if (entry.at <= now) entry.task();
        else tasks.push(entry);
      }
    },
  };
}

test('Typing Notifications: a typist shows until their timeout, then the stream advances on expiry', () => {
  const time = manualTime();
  const typing = new TypingService(time);
  const wakeups: number[] = [];
  typing.onAdvance((position) => wakeups.push(position));

  typing.setTyping(ROOM, ALICE, true, 10_000);
  typing.setTyping(ROOM, BOB, true, 30_000);
  assert.deepEqual(typing.typingUsers(ROOM), [ALICE, BOB]);
  assert.equal(typing.currentPosition(), 2);

  time.advance(9_999);
  assert.deepEqual(typing.typingUsers(ROOM), [ALICE, BOB]);
  time.advance(1);
  assert.deepEqual(typing.typingUsers(ROOM), [BOB]);
  assert.equal(typing.currentPosition(), 3, 'expiry is a change /sync must see');
  assert.deepEqual([...typing.roomsChangedSince(2)], [ROOM]);

  time.advance(20_000);
  assert.deepEqual(typing.typingUsers(ROOM), []);
  assert.deepEqual(wakeups, [1, 2, 3, 4]);
  assert.equal(time.pending(), 0, 'no timer left once nobody types');
});

test('Typing Notifications: typing=false stops at once; repeating typing=true only extends the timeout', () => {
  const time = manualTime();
  const typing = new TypingService(time);
  typing.setTyping(ROOM, ALICE, true, 5_000);
  const afterStart = typing.currentPosition();
  time.advance(4_000);
  typing.setTyping(ROOM, ALICE, true, 5_000);
  assert.equal(typing.currentPosition(), afterStart, 'an extension is invisible to clients');
  time.advance(4_000);
  assert.deepEqual(typing.typingUsers(ROOM), [ALICE], 'the extended timeout holds');
  typing.setTyping(ROOM, ALICE, false);
  assert.deepEqual(typing.typingUsers(ROOM), []);
  assert.equal(typing.currentPosition(), afterStart + 1);
  typing.setTyping(ROOM, ALICE, false);
  assert.equal(typing.currentPosition(), afterStart + 1, 'stopping twice is one change');
});

test('Typing Notifications: roomsChangedSince names only the rooms that changed after a position', () => {
  const time = manualTime();
  const typing = new TypingService(time);
  typing.setTyping(ROOM, ALICE, true, 1_000);
  const mark = typing.currentPosition();
  typing.setTyping(OTHER_ROOM, BOB, true, 60_000);
  assert.deepEqual([...typing.roomsChangedSince(mark)], [OTHER_ROOM]);
  assert.deepEqual([...typing.roomsChangedSince(0)].sort(), [OTHER_ROOM, ROOM].sort());
  // A position from before a restart (ahead of this in-memory stream): every typing room.
  assert.deepEqual([...typing.roomsChangedSince(mark + 100)].sort(), [OTHER_ROOM, ROOM].sort());
});

test('Typing Notifications: timeouts are capped, so a client cannot pin itself as typing', () => {
  const time = manualTime();
  const typing = new TypingService(time);
  typing.setTyping(ROOM, ALICE, true, 10 * MAX_TYPING_TIMEOUT_MS);
  time.advance(MAX_TYPING_TIMEOUT_MS);
  assert.deepEqual(typing.typingUsers(ROOM), []);
});

test('Typing Notifications: onChange reports starts and expiries for the federation sender', () => {
  const time = manualTime();
  const typing = new TypingService(time);
  const changes: string[] = [];
  typing.onChange((c) => changes.push(`${c.userId} ${c.typing}`));
  typing.setTyping(ROOM, ALICE, true, 1_000);
  time.advance(1_000);
  assert.deepEqual(changes, [`${ALICE} true`, `${ALICE} false`]);
  typing.close();
});
