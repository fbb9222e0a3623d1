// History visibility for a server (client-server § "History visibility", "Server behaviour",
// applied to the asking server's users as a group) against a fake room.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { silentLogger } from '../../http/testing.ts';
import type { RoomEvent } from '../../roomserver/index.ts';
import { stateKeyOf } from '../../rooms/event-view.ts';
import type { JsonObject } from '../../rooms/json.ts';
import { RoomAccess, type RoomReader } from './room-access.ts';

const ROOM = '!room:a.test';
const BOB = '@bob:b.test';

function event(eventId: string, type: string, content: JsonObject, stateKey?: string): RoomEvent {
  return {
    eventId,
    roomId: ROOM,
    json: { event_id: eventId, type, content, ...(stateKey === undefined ? {} : { state_key: stateKey }) },
    streamOrdering: 1,
    depth: 1,
    type,
    stateKey,
    sender: '@alice:a.test',
    originServerTs: 0,
    roomVersion: '12',
    outlier: false,
    rejectedReason: null,
    softFailed: false,
    redactedBy: null,
  };
}

/** A room whose state before `target` holds the given history visibility and bob's membership. */
function room(options: { visibility?: string; bobBefore?: string; bobNow?: string; target: RoomEvent; outlier?: boolean }): RoomAccess {
  const events = new Map<string, RoomEvent>();
  const state = new Map<string, string>();
  if (options.visibility !== undefined) {
    events.set('$hv', event('$hv', 'm.room.history_visibility', { history_visibility: options.visibility }, ''));
    state.set(stateKeyOf('m.room.history_visibility', ''), '$hv');
  }
  if (options.bobBefore !== undefined) {
    events.set('$bob', event('$bob', 'm.room.member', { membership: options.bobBefore }, BOB));
    state.set(stateKeyOf('m.room.member', BOB), '$bob');
  }
  events.set(options.target.eventId, options.target);
  const reader: RoomReader = {
    event: async (id) => events.get(id),
    stateAt: async () => (options.outlier === true ? undefined : state),
    stateEvent: async () => undefined,
    members: async () => (options.bobNow === 'join' ? ['@alice:a.test', BOB] : ['@alice:a.test']),
    roomVersion: async () => '12',
  } as RoomReader;
  return new RoomAccess(reader, silentLogger());
}

const message = event('$m', 'm.room.message', { body: 'hi' });

describe('RoomAccess.eventVisibleTo: history visibility for a server', () => {
  test('world_readable: every server, member or not', async () => {
    assert.equal(await room({ visibility: 'world_readable', target: message }).eventVisibleTo(message, 'b.test'), true);
  });

  test('shared: a server whose user joined later may see it; one with no user in the room may not', async () => {
    assert.equal(await room({ visibility: 'shared', target: message, bobNow: 'join' }).eventVisibleTo(message, 'b.test'), true);
    assert.equal(await room({ visibility: 'shared', target: message }).eventVisibleTo(message, 'b.test'), false);
    // No history_visibility event, or a value not understood, reads as shared.
    assert.equal(await room({ target: message, bobNow: 'join' }).eventVisibleTo(message, 'b.test'), true);
    assert.equal(await room({ visibility: 'everyone!', target: message, bobNow: 'join' }).eventVisibleTo(message, 'b.test'), true);
  });

  test('joined: only while a user of the server was joined at the event', async () => {
    assert.equal(await room({ visibility: 'joined', bobBefore: 'join', target: message }).eventVisibleTo(message, 'b.test'), true);
    assert.equal(await room({ visibility: 'joined', bobBefore: 'invite', target: message, bobNow: 'join' }).eventVisibleTo(message, 'b.test'), false);
    assert.equal(await room({ visibility: 'joined', target: message, bobNow: 'join' }).eventVisibleTo(message, 'b.test'), false);
  });

  test('invited: a user of the server invited at the event is enough', async () => {
    assert.equal(await room({ visibility: 'invited', bobBefore: 'invite', target: message }).eventVisibleTo(message, 'b.test'), true);
    assert.equal(await room({ visibility: 'invited', bobBefore: 'leave', target: message }).eventVisibleTo(message, 'b.test'), false);
  });

  test('the server\u2019s own user\u2019s join is visible in a joined room (membership after it counts)', async () => {
    const join = event('$join', 'm.room.member', { membership: 'join' }, BOB);
    assert.equal(await room({ visibility: 'joined', target: join }).eventVisibleTo(join, 'b.test'), true);
    assert.equal(await room({ visibility: 'joined', target: join }).eventVisibleTo(join, 'c.test'), false);
  });

  test('a history_visibility event is visible when the setting before or after it allows', async () => {
    const opening = event('$open', 'm.room.history_visibility', { history_visibility: 'world_readable' }, '');
    assert.equal(await room({ visibility: 'joined', target: opening }).eventVisibleTo(opening, 'b.test'), true);
  });

  test('an outlier (no state held) is visible to servers in the room only', async () => {
    assert.equal(await room({ visibility: 'joined', target: message, outlier: true, bobNow: 'join' }).eventVisibleTo(message, 'b.test'), true);
    assert.equal(await room({ visibility: 'joined', target: message, outlier: true }).eventVisibleTo(message, 'b.test'), false);
  });
});
