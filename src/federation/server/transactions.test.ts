// PUT /send/{txnId} processing (server-server § "Transactions", § "Server ACLs", § "EDUs")
// with the roomserver and storage replaced by recording fakes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../http/testing.ts';
import type { ReceiveResult } from '../../roomserver/index.ts';
import type { JsonObject, JsonValue } from '../../rooms/json.ts';
import type { InboundTransaction } from '../../storage/federation-inbound-repository.ts';
import { EduDispatcher, type ReceivedEdu } from './edus.ts';
import { TransactionProcessor, type InboundTransactionStore } from './transactions.ts';

class MemoryStore implements InboundTransactionStore {
  readonly rows = new Map<string, InboundTransaction>();
  async find(origin: string, txnId: string) {
    return this.rows.get(`${origin} ${txnId}`);
  }
  async record(txn: InboundTransaction) {
    const key = `${txn.origin} ${txn.txnId}`;
    if (!this.rows.has(key)) this.rows.set(key, txn);
    return this.rows.get(key) ?? txn;
  }
  async pruneReceivedBefore() {
    return 0;
  }
}

/** v1 PDUs carry their event_id, so the fake needs no hashing. */
function pdu(room: string, id: string): JsonObject {
  return { room_id: room, event_id: id, type: 'm.room.message' };
}

function setup(options: { denied?: string[]; outcome?: (pdu: JsonObject) => ReceiveResult } = {}) {
  const received: string[] = [];
  const edus: ReceivedEdu[] = [];
  let active = 0;
  let maxActivePerRoom = 0;
  const activeRooms = new Map<string, number>();
  const roomserver = {
    async roomVersion(roomId: string) {
      return roomId.startsWith('!known') ? '1' : undefined;
    },
    async receivePdu(raw: string | JsonObject, _origin: string): Promise<ReceiveResult> {
      const json = raw as JsonObject;
      const room = String(json['room_id']);
      activeRooms.set(room, (activeRooms.get(room) ?? 0) + 1);
      maxActivePerRoom = Math.max(maxActivePerRoom, activeRooms.get(room) ?? 0);
      active++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      active--;
      activeRooms.set(room, (activeRooms.get(room) ?? 1) - 1);
      received.push(String(json['event_id']));
      return options.outcome?.(json) ?? { outcome: 'accepted', eventId: String(json['event_id']) };
    },
  };
  const acl = { aclAllows: async (roomId: string) => !(options.denied ?? []).includes(roomId) };
  const dispatcher = new EduDispatcher(new Map([['m.receipt', { handle: async (edu: ReceivedEdu) => void edus.push(edu) }], ['m.typing', { handle: async (edu: ReceivedEdu) => void edus.push(edu) }]]), acl, silentLogger());
  const store = new MemoryStore();
  const processor = new TransactionProcessor({ roomserver, acl, edus: dispatcher, store, logger: silentLogger(), clock: Date.now });
  return { processor, received, edus, store, maxActivePerRoom: () => maxActivePerRoom, active: () => active };
}

test('§ Transactions: PDUs of one room are processed one at a time, in the order sent', async () => {
  const t = setup();
  const pdus = [pdu('!known1:x', '$a:x'), pdu('!known2:x', '$b:x'), pdu('!known1:x', '$c:x'), pdu('!known1:x', '$d:x')];
  const response = await t.processor.receive('remote.test', 't1', { pdus });
  assert.deepEqual(Object.keys(response['pdus'] as JsonObject).sort(), ['$a:x', '$b:x', '$c:x', '$d:x']);
  assert.equal(t.maxActivePerRoom(), 1);
  const room1 = t.received.filter((id) => id !== '$b:x');
  assert.deepEqual(room1, ['$a:x', '$c:x', '$d:x']);
});

test('§ Transactions: a retry while the first is still running waits for it and shares its answer', async () => {
  const t = setup();
  const body = { pdus: [pdu('!known1:x', '$a:x')] as JsonValue[] };
  const [first, second] = await Promise.all([t.processor.receive('r.test', 'same', body), t.processor.receive('r.test', 'same', body)]);
  assert.deepEqual(first, second);
  assert.deepEqual(t.received, ['$a:x']);
  // And later, from the store.
  assert.deepEqual(await t.processor.receive('r.test', 'same', { pdus: [pdu('!known1:x', '$z:x')] }), first);
  assert.deepEqual(t.received, ['$a:x']);
  // The same ID from another origin is another transaction.
  await t.processor.receive('other.test', 'same', body);
  assert.deepEqual(t.received, ['$a:x', '$a:x']);
});

test('§ Transactions: per-PDU results for rejected, dropped, unknown-room and ACL-denied PDUs', async () => {
  const t = setup({
    denied: ['!knownDenied:x'],
    outcome: (json) =>
      json['event_id'] === '$rej:x'
        ? { outcome: 'rejected', eventId: '$rej:x', check: 4, rule: '4.1', reason: 'no power' }
        : json['event_id'] === '$drop:x'
          ? { outcome: 'dropped', eventId: '$drop:x', check: 2, reason: 'bad signature' }
          : { outcome: 'soft-failed', eventId: String(json['event_id']) },
  });
  const response = await t.processor.receive('r.test', 't', {
    pdus: [pdu('!known1:x', '$rej:x'), pdu('!known1:x', '$drop:x'), pdu('!known1:x', '$soft:x'), pdu('!unknown:x', '$unk:x'), pdu('!knownDenied:x', '$acl:x'), 'not an object'],
  });
  const results = response['pdus'] as Record<string, { error?: string }>;
  assert.match(results['$rej:x']?.error ?? '', /rule 4\.1.*no power/);
  assert.match(results['$drop:x']?.error ?? '', /check 2.*bad signature/);
  assert.deepEqual(results['$soft:x'], {});
  assert.match(results['$unk:x']?.error ?? '', /Unknown room/);
  assert.match(results['$acl:x']?.error ?? '', /ACL/);
  assert.ok(!t.received.includes('$acl:x'));
  assert.equal(Object.keys(results).length, 5);
});

test('§ Server ACLs: receipts for denied rooms and typing in denied rooms are ignored; user EDUs must be the origin’s', async () => {
  const t = setup({ denied: ['!denied:x'] });
  await t.processor.receive('r.test', 'edus', {
    pdus: [],
    edus: [
      { edu_type: 'm.receipt', content: { '!ok:x': { 'm.read': {} }, '!denied:x': { 'm.read': {} } } },
      { edu_type: 'm.typing', content: { room_id: '!denied:x', user_id: '@u:r.test', typing: true } },
      { edu_type: 'm.typing', content: { room_id: '!ok:x', user_id: '@u:elsewhere.test', typing: true } },
      { edu_type: 'm.typing', content: { room_id: '!ok:x', user_id: '@u:r.test', typing: true } },
      { edu_type: 'm.presence', content: { push: [] } },
      'garbage',
    ],
  });
  assert.deepEqual(
    t.edus.map((e) => [e.eduType, e.content]),
    [
      ['m.receipt', { '!ok:x': { 'm.read': {} } }],
      ['m.typing', { room_id: '!ok:x', user_id: '@u:r.test', typing: true }],
    ],
  );
});
