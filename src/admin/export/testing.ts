// Test rig for the export: a room with the history an audit must cover — local and remote
// senders, edits, redactions, state changes, a rejected event, a soft-failed event and an
// event stored as its redacted copy after a hash mismatch. Not imported by production code.

import { signEvent } from '../../crypto/event-signing.ts';
import type { SigningKey } from '../../crypto/signing-key.ts';
import { computeEventId } from '../../rooms/event-id.ts';
import type { JsonObject } from '../../rooms/json.ts';
import { buildCreateEvent, buildEvent } from '../../rooms/pdu/build.ts';
import { roomVersionRules } from '../../rooms/room-versions.ts';
import type { Roomserver } from '../../roomserver/roomserver.ts';
import type { RemoteServer } from '../../roomserver/testing.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import type { ExportEventRow } from '../../storage/export-queries.ts';
import { ServerKeysRepository } from '../../storage/server-keys-repository.ts';

export const ALICE = '@alice:local.test';
export const BOB = '@bob:remote.test';

export interface AuditRoom {
  readonly roomId: string;
  /** Every event the room server stored for the room, accepted or not. */
  readonly eventCount: number;
  readonly remoteMessageIds: readonly string[];
  readonly redactedIds: readonly string[];
  readonly rejectedId: string;
  readonly softFailedId: string;
  readonly redactedOnReceiptId: string;
}

async function receive(rs: Roomserver, remote: RemoteServer, event: JsonObject, expected: string): Promise<string> {
  const result = await rs.receivePdu(event, remote.serverName, { roomVersion: '12' });
  if (result.outcome !== expected || result.eventId === undefined) {
    throw new Error(`remote event: expected ${expected}, got ${result.outcome} (${result.reason ?? ''})`);
  }
  return result.eventId;
}

/**
 * A v12 room of about `total` events. The remote server's key goes into the key cache
 * (`server_keys`), where the keyring would have put it when the events arrived.
 */
export async function buildAuditRoom(db: StoaDatabase, rs: Roomserver, remote: RemoteServer, total: number): Promise<AuditRoom> {
  await new ServerKeysRepository(db.kysely).upsert([
    {
      serverName: remote.serverName,
      keyId: remote.key.keyId,
      publicKey: remote.key.publicKeyBase64,
      validUntilTs: 4_000_000_000_000,
      expiredTs: null,
      fetchedTs: 1,
      keyJson: '{}',
    },
  ]);
  const { roomId, eventIds } = await rs.createRoom({
    creator: ALICE,
    roomVersion: '12',
    initialState: [
      { type: 'm.room.power_levels', stateKey: '', content: { users: {}, users_default: 0, redact: 50 } },
      { type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } },
      { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'shared' } },
      { type: 'm.room.name', stateKey: '', content: { name: 'Audit <room> & "friends"' } },
    ],
  });
  let count = eventIds.length;
  await receive(rs, remote, await remote.buildEvent(rs, roomId, { type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join' }, originServerTs: Date.now() }), 'accepted');
  count++;

  const remoteMessageIds: string[] = [];
  const redactedIds: string[] = [];
  let lastAlice = '';
  for (let i = 0; count < total - 4; i++) {
    if (i % 10 === 3) {
      const event = await remote.buildEvent(rs, roomId, { type: 'm.room.message', sender: BOB, content: { msgtype: 'm.text', body: `bob says ${i}` }, originServerTs: Date.now() });
      remoteMessageIds.push(await receive(rs, remote, event, 'accepted'));
    } else if (i % 13 === 5) {
      await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.topic', stateKey: '', content: { topic: `topic ${i}` } });
    } else if (i % 7 === 6 && lastAlice !== '') {
      await rs.sendEvent({
        roomId,
        sender: ALICE,
        type: 'm.room.message',
        content: {
          msgtype: 'm.text',
          body: `* edited ${i}`,
          'm.new_content': { msgtype: 'm.text', body: `edited ${i}` },
          'm.relates_to': { rel_type: 'm.replace', event_id: lastAlice },
        },
      });
    } else if (i % 17 === 9 && lastAlice !== '') {
      await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.redaction', redacts: lastAlice, content: { reason: 'oops' } });
      redactedIds.push(lastAlice);
      lastAlice = '';
    } else {
      lastAlice = (await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { msgtype: 'm.text', body: `<b>message</b> ${i}` } })).eventId;
    }
    count++;
  }

  // A sender who is not in the room: rejected (checks on receipt, 4).
  const intruder = await remote.buildEvent(rs, roomId, { type: 'm.room.message', sender: '@eve:remote.test', content: { body: 'let me in' } });
  const rejectedId = await receive(rs, remote, intruder, 'rejected');
  // Content changed after signing: stored as the redacted copy (check 3).
  const tampered = await remote.buildEvent(rs, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'original' } });
  tampered['content'] = { body: 'changed in transit' };
  const redactedOnReceiptId = await receive(rs, remote, tampered, 'accepted');
  // Bob is banned; an event of his that points before the ban is soft-failed (check 6).
  const beforeBan = (await rs.forwardExtremities(roomId))[0] ?? '';
  await rs.setMembership({ roomId, sender: ALICE, target: BOB, membership: 'ban' });
  const evasion = await remote.buildEvent(rs, roomId, { type: 'm.room.message', sender: BOB, content: { body: 'evading' }, prevEvents: [beforeBan] });
  const softFailedId = await receive(rs, remote, evasion, 'soft-failed');
  count += 4;
  return { roomId, eventCount: count, remoteMessageIds, redactedIds, rejectedId, softFailedId, redactedOnReceiptId };
}

export interface SyntheticRoomOptions {
  readonly roomVersion: string;
  /** Events after the create event. */
  readonly events: number;
  /** One signing server per entry; senders rotate over them. */
  readonly servers: ReadonlyArray<{ readonly name: string; readonly key: SigningKey }>;
  /** Every message is an m.room.encrypted event. */
  readonly encrypted?: boolean;
  /** Message bodies (default: `message <n>`). */
  readonly body?: (n: number) => string;
  readonly firstTs?: number;
}

/** An export row with the columns a bulk load also writes. */
export type SyntheticRow = ExportEventRow & {
  readonly type: string;
  readonly stateKey: string | null;
  readonly sender: string;
  readonly originServerTs: number;
  readonly roomVersion: string;
};

/**
 * A linear room signed by the given servers, as export rows in stream order (create event
 * first), without a database: for the verifier's unit tests and the benchmark's bulk load.
 * The events are hashed, signed and linked, not auth-checked.
 */
export function* syntheticRoomRows(options: SyntheticRoomOptions): Generator<SyntheticRow> {
  const rules = roomVersionRules(options.roomVersion);
  const first = options.servers[0];
  if (rules === undefined || first === undefined) throw new Error('a supported room version and a server are needed');
  const firstTs = options.firstTs ?? 1_700_000_000_000;
  const creator = `@creator:${first.name}`;
  const create = buildCreateEvent({ rules, sender: creator, content: {}, originServerTs: firstTs, roomIdLocalpart: 'synthetic', eventIdLocalpart: 'create' });
  const signedCreate = signEvent(create.event, first.name, first.key, rules);
  const createId = computeEventId(signedCreate, rules);
  const row = (json: JsonObject, eventId: string, n: number): SyntheticRow => ({
    eventId,
    streamOrdering: n + 1,
    type: String(json['type']),
    stateKey: typeof json['state_key'] === 'string' ? json['state_key'] : null,
    sender: String(json['sender']),
    originServerTs: Number(json['origin_server_ts']),
    json: JSON.stringify(json),
    roomVersion: rules.id,
    outlier: false,
    rejectedReason: null,
    softFailed: false,
    redactedBy: null,
    receivedTs: Number(json['origin_server_ts']),
  });
  yield row(signedCreate, createId, 0);
  let prev = { eventId: createId, depth: 1, hashes: signedCreate['hashes'] as JsonObject };
  for (let n = 1; n <= options.events; n++) {
    const server = options.servers[n % options.servers.length] ?? first;
    const content: JsonObject = options.encrypted
      ? { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: `AwgAEn${n}`, device_id: 'DEV', sender_key: 'key', session_id: 'session' }
      : { msgtype: 'm.text', body: options.body?.(n) ?? `message ${n}` };
    const built = buildEvent({
      rules,
      roomId: create.roomId,
      type: options.encrypted ? 'm.room.encrypted' : 'm.room.message',
      sender: `@user${n % 7}:${server.name}`,
      content,
      originServerTs: firstTs + n,
      prevEvents: [prev],
      authEvents: rules.format.createInAuthEvents ? [{ eventId: createId, hashes: signedCreate['hashes'] as JsonObject }] : [],
      ...(rules.format.requireEventIdField ? { eventIdLocalpart: `e${n}` } : {}),
    });
    const signed = signEvent(built, server.name, server.key, rules);
    const eventId = computeEventId(signed, rules);
    yield row(signed, eventId, n);
    prev = { eventId, depth: n + 1, hashes: signed['hashes'] as JsonObject };
  }
}
