// client-server § "Room event format" (definitions/client_event.yaml): the keys a client gets,
// `unsigned` built by this server, and § "Transaction identifiers" for `transaction_id`.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RoomEvent } from '../../roomserver/index.ts';
import { toClientEvent } from './client-event.ts';
import { clientTransactionId } from './transaction-id.ts';

function roomEvent(overrides: Partial<RoomEvent> & Pick<RoomEvent, 'json'>): RoomEvent {
  return {
    eventId: '$e',
    roomId: '!r:x',
    streamOrdering: 5,
    depth: 3,
    type: 'm.room.message',
    stateKey: undefined,
    sender: '@a:x',
    originServerTs: 1000,
    roomVersion: '11',
    outlier: false,
    rejectedReason: null,
    softFailed: false,
    redactedBy: null,
    ...overrides,
  };
}

test('room event format § client and sync formats; the PDU\'s own unsigned is not passed on', () => {
  const event = roomEvent({
    json: { type: 'm.room.message', content: { body: 'hi' }, unsigned: { age: 1, evil: true }, hashes: { sha256: 'x' }, depth: 3 },
  });
  assert.deepEqual(toClientEvent(event, { format: 'client', now: 1500 }), {
    event_id: '$e',
    type: 'm.room.message',
    content: { body: 'hi' },
    sender: '@a:x',
    origin_server_ts: 1000,
    room_id: '!r:x',
    unsigned: { age: 500 },
  });
  const sync = toClientEvent(event, { format: 'sync', now: 1500 });
  assert.equal(sync['room_id'], undefined);
});

test('room event format § state_key (also empty), unsigned extras, redacts at the top level', () => {
  const state = roomEvent({ type: 'm.room.topic', stateKey: '', json: { content: { topic: 't' } } });
  const out = toClientEvent(state, {
    format: 'client',
    now: 1000,
    unsigned: { prevContent: { topic: 'old' }, replacesState: '$old', transactionId: 'abc', membership: 'join' },
  });
  assert.equal(out['state_key'], '');
  assert.deepEqual(out['unsigned'], { age: 0, prev_content: { topic: 'old' }, replaces_state: '$old', transaction_id: 'abc', membership: 'join' });

  const v11Redaction = roomEvent({ type: 'm.room.redaction', json: { content: { redacts: '$target' } } });
  assert.equal(toClientEvent(v11Redaction, { format: 'client', now: 1000 })['redacts'], '$target');
  const v10Redaction = roomEvent({ type: 'm.room.redaction', roomVersion: '10', json: { redacts: '$t10', content: {} } });
  assert.equal(toClientEvent(v10Redaction, { format: 'client', now: 1000 })['redacts'], '$t10');
  // rooms/v11.md "Moving the redacts property": served in both places, whatever is stored.
  assert.deepEqual(toClientEvent(v10Redaction, { format: 'client', now: 1000 })['content'], { redacts: '$t10' });
  assert.deepEqual(toClientEvent(v11Redaction, { format: 'client', now: 1000 })['content'], { redacts: '$target' });
  // A non-object content (a broken remote event) still yields an object.
  assert.deepEqual(toClientEvent(roomEvent({ json: { content: 'nope' } }), { format: 'client', now: 1000 })['content'], {});
});

test('transaction identifiers § the client gets its own ID back, without the endpoint scope', () => {
  assert.equal(clientTransactionId('send:t1'), 't1');
  assert.equal(clientTransactionId('redact:t1'), 't1');
  assert.equal(clientTransactionId('t1'), 't1');
  assert.equal(clientTransactionId('send:redact:x'), 'redact:x');
});
