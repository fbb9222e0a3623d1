import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMatrixError } from '../../http/matrix-error.ts';
import { ConnectionStore, EMPTY_SNAPSHOT, type Snapshot } from './connections.ts';

const key = { userId: '@u:x', deviceId: 'D', connId: 'c' };
const snap = (events: number): Snapshot => ({ ...EMPTY_SNAPSHOT, position: { events, streams: {} } });

function unknownPos(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => isMatrixError(e) && e.errcode === 'M_UNKNOWN_POS' && e.status === 400);
}

test('MSC4186 pos: each response names a snapshot; the client may retry the one it holds until it moves on', () => {
  const store = new ConnectionStore();
  const start = store.resolve(key, undefined);
  assert.equal(start.snapshot, EMPTY_SNAPSHOT);
  const p1 = start.commit(snap(1));
  const r1 = store.resolve(key, p1);
  assert.equal(r1.snapshot.position?.events, 1);
  const p2 = r1.commit(snap(2));
  // Retry of p1 (the response with p2 was lost) still works.
  const retry = store.resolve(key, p1);
  const p3 = retry.commit(snap(3));
  assert.notEqual(p3, p2);
  // Moving on to p3 drops p1 and p2.
  store.resolve(key, p3);
  unknownPos(() => store.resolve(key, p1));
  unknownPos(() => store.resolve(key, p2));
});

test('MSC4186 pos: positions are bound to (user, device, conn_id); a restart or eviction forgets them', () => {
  const store = new ConnectionStore(2);
  const p = store.resolve(key, undefined).commit(snap(1));
  unknownPos(() => store.resolve({ ...key, connId: 'other' }, p));
  unknownPos(() => store.resolve({ ...key, deviceId: 'E' }, p));
  unknownPos(() => store.resolve(key, 'garbage'));
  const q = store.resolve(key, undefined).commit(snap(1));
  unknownPos(() => store.resolve(key, p));
  store.resolve({ ...key, connId: 'a' }, undefined);
  store.resolve({ ...key, connId: 'b' }, undefined);
  assert.equal(store.size, 2);
  unknownPos(() => store.resolve(key, q));
});
