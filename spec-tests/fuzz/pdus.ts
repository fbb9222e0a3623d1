// PDUs for the fuzz room, as the fake remote server would send them: correctly hashed and
// signed (so they get past signature checks and into the auth rules and the DAG), built
// from the room's current state as the client API shows it. A remote user joins the
// public room, then sends messages, state and redactions; contents are sometimes hostile
// before signing (wrong types, huge values), and the request builder may break the signed
// JSON afterwards (floats, out-of-range integers, duplicate keys: non-canonical JSON).

import { signEvent } from '../../src/crypto/event-signing.ts';
import type { SigningKey } from '../../src/crypto/signing-key.ts';
import { computeEventId } from '../../src/rooms/event-id.ts';
import type { JsonObject } from '../../src/rooms/json.ts';
import { buildEvent, selectAuthEvents } from '../../src/rooms/pdu/build.ts';
import { roomVersionRules, type RoomVersionRules } from '../../src/rooms/room-versions.ts';
import { request } from '../rig/http.ts';
import type { FuzzIdentities } from './identities.ts';
import type { Rng } from './rng.ts';

interface StateEntry {
  readonly type: string;
  readonly state_key: string;
  readonly event_id: string;
  readonly content?: Record<string, unknown>;
}

const HOSTILE_CONTENTS: readonly JsonObject[] = [
  { msgtype: 5, body: ['not', 'a', 'string'] },
  { body: 'x'.repeat(70_000) },
  { membership: 'join', displayname: { nested: true }, avatar_url: 7 },
  { membership: 'knock' },
  { membership: 'ban' },
  { membership: 42 },
  { users: { '@x:y': 'hundred' }, users_default: 'high' },
  { join_rule: ['public'] },
  { 'm.relates_to': { rel_type: 'm.annotation', event_id: 17, key: null } },
  { 'm.relates_to': { rel_type: 'm.thread', event_id: '$nope:nowhere' } },
  { redacts: 12 },
  { topic: '', 'm.topic': [{ body: 5, mimetype: [] }] },
  { depth: -1 },
];

export class PduFactory {
  readonly #ids: FuzzIdentities;
  readonly #key: SigningKey;
  readonly #rules: RoomVersionRules;
  readonly #state: Map<string, string>;
  #counter = 0;

  private constructor(ids: FuzzIdentities, key: SigningKey, rules: RoomVersionRules, state: Map<string, string>) {
    this.#ids = ids;
    this.#key = key;
    this.#rules = rules;
    this.#state = state;
  }

  /** Reads the room's state and version through the client API, or undefined when it cannot. */
  static async load(clientUrl: string, ids: FuzzIdentities, key: SigningKey): Promise<PduFactory | undefined> {
    const res = await request(`${clientUrl}/_matrix/client/v3/rooms/${encodeURIComponent(ids.roomId)}/state`, {
      headers: { authorization: `Bearer ${ids.accessToken}` },
    });
    if (res.status !== 200 || !Array.isArray(res.body)) return undefined;
    const state = new Map<string, string>();
    let version = '1';
    for (const entry of res.body as StateEntry[]) {
      state.set(`${entry.type}\u0000${entry.state_key}`, entry.event_id);
      const declared = entry.content?.['room_version'];
      if (entry.type === 'm.room.create' && typeof declared === 'string') version = declared;
    }
    const rules = roomVersionRules(version);
    return rules === undefined ? undefined : new PduFactory(ids, key, rules, state);
  }

  /**
   * A signed PDU from a user on the fake remote: a join, a message, a state event or a
   * redaction, with `prev` (an earlier PDU of the same transaction) as its parent when given.
   */
  build(rng: Rng, prev?: { eventId: string; depth: number }): { pdu: JsonObject; eventId: string; depth: number } {
    const sender = `@fuzz${rng.int(3)}:${this.#ids.remoteServerName}`;
    const kind = rng.pick(['join', 'join', 'message', 'message', 'state', 'redaction', 'leave']);
    let type = 'm.room.message';
    let stateKey: string | undefined;
    let content: JsonObject = { msgtype: 'm.text', body: `fuzz ${rng.int(1000)}` };
    let redacts: string | undefined;
    switch (kind) {
      case 'join':
      case 'leave':
        type = 'm.room.member';
        stateKey = sender;
        content = { membership: kind };
        break;
      case 'state':
        type = rng.pick(['m.room.topic', 'm.room.name', 'm.room.power_levels', 'm.room.join_rules', 'org.fuzz.state']);
        stateKey = '';
        content = { topic: 'fuzz', name: 'fuzz' };
        break;
      case 'redaction':
        type = 'm.room.redaction';
        redacts = this.#ids.eventId;
        content = this.#rules.id === '11' || this.#rules.id === '12' ? { redacts: this.#ids.eventId } : {};
        break;
      default:
        break;
    }
    if (rng.chance(0.3)) content = { ...content, ...rng.pick(HOSTILE_CONTENTS) };
    const authIds = selectAuthEvents(this.#rules, { type, stateKey, sender, content }, (t, k) => this.#state.get(`${t}\u0000${k}`));
    const prevEvents = [{ eventId: prev?.eventId ?? this.#ids.eventId, depth: prev?.depth ?? 10 }];
    const built = buildEvent({
      rules: this.#rules,
      roomId: this.#ids.roomId,
      type,
      ...(stateKey === undefined ? {} : { stateKey }),
      sender,
      content,
      originServerTs: Date.now() - rng.int(100_000),
      prevEvents,
      authEvents: authIds,
      ...(redacts === undefined ? {} : { redacts }),
      ...(this.#rules.format.requireEventIdField ? { eventIdLocalpart: `fuzz${++this.#counter}${rng.next()}` } : {}),
    });
    const pdu = signEvent(built, this.#ids.remoteServerName, this.#key, this.#rules);
    const depth = typeof pdu['depth'] === 'number' ? pdu['depth'] : 11;
    const eventId = computeEventId(pdu, this.#rules);
    // Optimistically: later events cite it as an auth event. If the node refused it, they
    // cite an event it does not have, which is a path worth exercising too.
    if (stateKey !== undefined) this.#state.set(`${type}\u0000${stateKey}`, eventId);
    return { pdu, eventId, depth };
  }

  /** One to four PDUs, each following the one before. */
  batch(rng: Rng): JsonObject[] {
    const out: JsonObject[] = [];
    let prev: { eventId: string; depth: number } | undefined;
    for (let i = rng.between(1, 4); i > 0; i--) {
      const built = this.build(rng, prev);
      out.push(built.pdu);
      prev = { eventId: built.eventId, depth: built.depth };
    }
    return out;
  }
}
