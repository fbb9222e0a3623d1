import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBase64, encodeBase64Url } from './base64.ts';
import { computeEventId, EventIdError, eventIdMatchesFormat, roomIdFromCreateEvent } from './event-id.ts';
import { computeReferenceHash } from './hashes.ts';
import type { JsonObject } from './json.ts';
import { roomVersionRules } from './room-versions.ts';
import type { RoomVersionRules } from './room-versions.ts';

const rules = (id: string): RoomVersionRules => roomVersionRules(id)!;

// A reference hash whose standard and URL-safe encodings differ (it contains `+` or `/`).
function eventWithSlashOrPlus(version: RoomVersionRules): JsonObject {
  for (let i = 0; ; i++) {
    const event: JsonObject = { type: 'm.room.message', sender: '@a:x', room_id: '!r:x', content: {}, depth: i, hashes: { sha256: 'AAAA' } };
    if (/[+/]/.test(encodeBase64(computeReferenceHash(event, version)))) return event;
  }
}

// fragments/v1-event-ids.md: v1/v2 events carry their ID.
test('v1–v2 event IDs come from the event_id field', () => {
  for (const version of ['1', '2']) {
    assert.equal(computeEventId({ event_id: '$abc:example.org', type: 'X' }, rules(version)), '$abc:example.org');
    assert.throws(() => computeEventId({ type: 'X' }, rules(version)), EventIdError);
    assert.throws(() => computeEventId({ event_id: 5 }, rules(version)), EventIdError);
    assert.throws(() => computeEventId({ event_id: 'no-sigil:x' }, rules(version)), EventIdError);
  }
});

// v3.md § "Event IDs": standard alphabet; v4-event-ids.md: URL-safe.
test('v3 event IDs use standard Base64, v4+ URL-safe', () => {
  const v3Event = eventWithSlashOrPlus(rules('3'));
  const v3Hash = computeReferenceHash(v3Event, rules('3'));
  assert.equal(computeEventId(v3Event, rules('3')), `$${encodeBase64(v3Hash)}`);
  assert.match(computeEventId(v3Event, rules('3')), /[+/]/);
  for (const version of ['4', '5', '6', '7', '8', '9', '10', '11', '12']) {
    const event = eventWithSlashOrPlus(rules(version));
    const id = computeEventId(event, rules(version));
    assert.equal(id, `$${encodeBase64Url(computeReferenceHash(event, rules(version)))}`);
    assert.match(id, /^\$[A-Za-z0-9_-]{43}$/);
    assert.equal(eventIdMatchesFormat(id, rules(version)), true);
  }
});

test('event IDs ignore signatures and unsigned but cover hashes', () => {
  const base: JsonObject = { type: 'X', sender: '@a:x', content: { body: 'a' }, hashes: { sha256: 'AAAA' } };
  const id = computeEventId(base, rules('10'));
  assert.equal(computeEventId({ ...base, signatures: { x: { 'ed25519:1': 'y' } }, unsigned: { age: 1 } }, rules('10')), id);
  assert.equal(computeEventId({ ...base, content: { body: 'redactable' } }, rules('10')), id);
  assert.notEqual(computeEventId({ ...base, hashes: { sha256: 'BBBB' } }, rules('10')), id);
});

// v12.md: the room ID is the create event's reference hash.
test('v12 room IDs derive from the create event', () => {
  const create: JsonObject = {
    type: 'm.room.create', state_key: '', sender: '@a:x', origin_server_ts: 5, depth: 1, prev_events: [], auth_events: [],
    content: { room_version: '12' }, hashes: { sha256: 'AAAA' },
  };
  const roomId = roomIdFromCreateEvent(create, rules('12'));
  assert.equal(roomId, `!${encodeBase64Url(computeReferenceHash(create, rules('12')))}`);
  assert.equal(roomId.slice(1), computeEventId(create, rules('12')).slice(1));
  assert.notEqual(roomIdFromCreateEvent({ ...create, origin_server_ts: 6 }, rules('12')), roomId);
  assert.throws(() => roomIdFromCreateEvent(create, rules('11')), EventIdError);
  assert.throws(() => roomIdFromCreateEvent({ ...create, type: 'm.room.member' }, rules('12')), EventIdError);
});

test('eventIdMatchesFormat per version', () => {
  assert.equal(eventIdMatchesFormat('$opaque:example.org', rules('1')), true);
  assert.equal(eventIdMatchesFormat('$opaque', rules('2')), false);
  assert.equal(eventIdMatchesFormat('$CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZgrW6o', rules('3')), true);
  assert.equal(eventIdMatchesFormat('$a/b+CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZg', rules('3')), true);
  assert.equal(eventIdMatchesFormat('$a/b+CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZg', rules('4')), false);
  assert.equal(eventIdMatchesFormat('$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg', rules('12')), true);
  assert.equal(eventIdMatchesFormat('$short', rules('12')), false);
});
