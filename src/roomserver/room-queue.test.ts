// Input serialised per room (DESIGN.md "The event pipeline"): one room's work runs in
// order, one item at a time, and never waits for another room's.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoomQueue } from './room-queue.ts';

test('tasks of one room run one at a time, in order, even when one fails', async () => {
  const queue = new RoomQueue();
  const log: string[] = [];
  let running = 0;
  const task = (name: string, fail = false) => async () => {
    running++;
    assert.equal(running, 1);
    await new Promise((resolve) => setTimeout(resolve, 2));
    log.push(name);
    running--;
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([queue.run('!a', task('1')), queue.run('!a', task('2', true)), queue.run('!a', task('3'))]);
  assert.deepEqual(log, ['1', '2', '3']);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(queue.activeRooms, 0);
});

test('a blocked room does not block another room', async () => {
  const queue = new RoomQueue();
  let release: () => void = () => undefined;
  const blocked = queue.run('!a', () => new Promise<string>((resolve) => (release = () => resolve('a'))));
  assert.equal(await queue.run('!b', async () => 'b'), 'b');
  release();
  assert.equal(await blocked, 'a');
});
