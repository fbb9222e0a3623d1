// State snapshots as delta chains (DESIGN.md "Data model"): a read reconstructs the state by
// walking the chain; chains longer than MAX_STATE_DELTA_CHAIN are re-based into full snapshots.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoomStore } from './room-store.ts';
import { MAX_STATE_DELTA_CHAIN, type StateChange } from './state-repository.ts';
import { describeEngines } from './testing.ts';

describeEngines('state snapshots', (getDb) => {
  test('deltas override, remove and re-base; every snapshot reads back exactly', async () => {
    const store = new RoomStore(getDb());
    const expected = new Map<string, string>();
    const key = (type: string, stateKey: string) => `${type}|${stateKey}`;
    let parentId: number | null = null;
    const snapshots: Array<{ id: number; state: Map<string, string> }> = [];
    for (let i = 0; i < MAX_STATE_DELTA_CHAIN + 10; i++) {
      const changes: StateChange[] = [{ type: 't', stateKey: `k${i % 5}`, eventId: `$e${i}` }];
      if (i % 7 === 6) changes.push({ type: 't', stateKey: `k${(i + 1) % 5}`, eventId: null });
      for (const c of changes) {
        if (c.eventId === null) expected.delete(key(c.type, c.stateKey));
        else expected.set(key(c.type, c.stateKey), c.eventId);
      }
      parentId = await store.state.saveSnapshot({ roomId: '!r:x', parentId, changes, createdTs: 0 });
      snapshots.push({ id: parentId, state: new Map(expected) });
    }
    for (const snapshot of snapshots) {
      const read = await store.state.readSnapshot(snapshot.id);
      assert.deepEqual(new Map(read.map((e) => [key(e.type, e.stateKey), e.eventId])), snapshot.state);
    }
    const lengths = await Promise.all(snapshots.map(async (s) => (await store.state.snapshotInfo(s.id))?.chainLength));
    assert.equal(Math.max(...lengths.map((l) => l ?? -1)), MAX_STATE_DELTA_CHAIN);
    assert.equal(lengths[MAX_STATE_DELTA_CHAIN + 1], 0, 're-based into a full snapshot');
    assert.equal(lengths[MAX_STATE_DELTA_CHAIN + 2], 1);
  });

  test('auth chains follow auth edges transitively in one query', async () => {
    const store = new RoomStore(getDb());
    const base = { roomId: '!r:x', streamOrdering: null, depth: 1, type: 't', stateKey: '', sender: '@a:x', originServerTs: 0, json: '{}', roomVersion: '12', outlier: true, rejectedReason: null, softFailed: false, redacts: null, stateBeforeSnapshotId: null, receivedTs: 0, prevEventIds: [] };
    await store.events.insert({ ...base, eventId: '$a', authEventIds: [] });
    await store.events.insert({ ...base, eventId: '$b', authEventIds: ['$a'] });
    await store.events.insert({ ...base, eventId: '$c', authEventIds: ['$b', '$a'] });
    await store.events.insert({ ...base, eventId: '$d', authEventIds: ['$c'] });
    assert.deepEqual((await store.events.authChain(['$d'])).sort(), ['$a', '$b', '$c']);
    assert.deepEqual((await store.events.authChain(['$b', '$c'])).sort(), ['$a', '$b']);
  });
});
