// DESIGN.md "Scale": readers of a stream written by several processes never pass a
// position still in flight anywhere.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StreamPositions } from './stream-positions.ts';

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('one process', () => {
  test('the safe position stays below positions still in flight', async () => {
    const s = new StreamPositions('e', 5);
    assert.equal(s.safePosition(), 5);
    await s.allocating(async () => 6);
    await s.allocating(async () => 7);
    s.committed(7);
    assert.equal(s.safePosition(), 5);
    s.committed(6);
    assert.equal(s.safePosition(), 7);
    await s.allocating(async () => 8);
    s.abandoned(8);
    assert.equal(s.safePosition(), 7);
  });

  test('an allocation on its way holds the position at what was seen when it started', async () => {
    const s = new StreamPositions('e', 5);
    const nextval = deferred<number>();
    const allocation = s.allocating(() => nextval.promise);
    assert.equal(s.ownSafe(), 5);
    // Another write commits meanwhile: the pending allocation may still get a lower position.
    await s.allocating(async () => 7);
    s.committed(7);
    assert.equal(s.safePosition(), 5);
    nextval.resolve(6);
    assert.equal(await allocation, 6);
    assert.equal(s.safePosition(), 5);
    s.committed(6);
    assert.equal(s.safePosition(), 7);
  });

  test('listeners hear of a position committed while its allocation was still held, once the hold is lifted', async () => {
    const s = new StreamPositions('d', 5);
    const heard: number[] = [];
    s.onAdvance((p) => heard.push(p));
    let release: () => void = () => undefined;
    const held = s.allocating(() => new Promise<null>((resolve) => (release = () => resolve(null))));
    s.committed(6);
    assert.deepEqual(heard, [5], 'the start, where nobody waits');
    release();
    await held;
    assert.deepEqual(heard, [5, 6]);
  });

  test('a failed allocation releases its hold', async () => {
    const s = new StreamPositions('e', 5);
    await assert.rejects(s.allocating(async () => {
      throw new Error('db down');
    }));
    await s.allocating(async () => 6);
    s.committed(6);
    assert.equal(s.safePosition(), 6);
  });

  test('write() runs a serial stream write and commits its position', async () => {
    const s = new StreamPositions('r', 0);
    const seen: number[] = [];
    s.onAdvance((p) => seen.push(p));
    assert.equal(await s.write(async () => ({ position: 3, result: 'ok' })), 'ok');
    assert.equal(await s.write(async () => ({ position: undefined, result: 'nothing' })), 'nothing');
    assert.equal(s.safePosition(), 3);
    assert.deepEqual(seen, [0, 3]);
  });
});

describe('several processes', () => {
  test('reads wait for the lowest promise of every writer', async () => {
    const a = new StreamPositions('e', 10);
    a.peerAnnounced('b', 9);
    assert.equal(a.safePosition(), 9);
    await a.allocating(async () => 11);
    a.committed(11);
    assert.equal(a.safePosition(), 9, 'b may still hold 10');
    a.peerAnnounced('b', 11);
    assert.equal(a.safePosition(), 11);
  });

  test('an idle writer follows the highest promise it hears, so it never holds others back', () => {
    const b = new StreamPositions('e', 9);
    assert.equal(b.peerAnnounced('a', 11), true, 'its own promise moved: it must announce');
    assert.equal(b.ownSafe(), 11);
    assert.equal(b.peerAnnounced('a', 11), false);
  });

  test('a writer with a write in flight does not follow past it', async () => {
    const b = new StreamPositions('e', 9);
    await b.allocating(async () => 10);
    b.peerAnnounced('a', 11);
    assert.equal(b.ownSafe(), 9);
    b.committed(10);
    assert.equal(b.ownSafe(), 11);
  });

  test('the safe position never goes back when a writer joins with a lower promise', () => {
    const a = new StreamPositions('e', 20);
    assert.equal(a.safePosition(), 20);
    a.peerAnnounced('late', 15);
    assert.equal(a.safePosition(), 20);
  });

  test('a forgotten peer no longer holds reads back', () => {
    const a = new StreamPositions('e', 20);
    a.peerAnnounced('dead', 3);
    const advanced: number[] = [];
    a.onAdvance((p) => advanced.push(p));
    a.forgetPeer('dead');
    assert.equal(a.safePosition(), 20);
    assert.deepEqual(advanced, [20]);
  });

  test('while held the safe position does not move', async () => {
    const a = new StreamPositions('e', 5);
    assert.equal(a.safePosition(), 5);
    a.hold();
    await a.allocating(async () => 6);
    a.committed(6);
    assert.equal(a.safePosition(), 5);
    a.release();
    assert.equal(a.safePosition(), 6);
  });
});
