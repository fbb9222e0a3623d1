// Test rig for the roomserver: a local Roomserver over a test database, and an in-memory
// "remote server" with its own signing key that builds and signs events against the
// local server's view of a room. Not imported by production code.

import { signEvent } from '../crypto/event-signing.ts';
import { signingKeyFromSeed, type SigningKey } from '../crypto/signing-key.ts';
import { stateKeyOf } from '../rooms/event-view.ts';
import { getField, isJsonObject, type JsonObject } from '../rooms/json.ts';
import { buildEvent, selectAuthEvents } from '../rooms/pdu/build.ts';
import { roomVersionRules } from '../rooms/room-versions.ts';
import type { StoaDatabase } from '../storage/index.ts';
import type { RemoteKeyLookup, RoomserverLogger } from './ports.ts';
import { Roomserver } from './roomserver.ts';

export const silentLogger: RoomserverLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export function testKey(fill: number, version = 'test'): SigningKey {
  return signingKeyFromSeed(version, new Uint8Array(32).fill(fill));
}

/** Servers known to each other in a test: server name → signing key. */
export class TestKeyring implements RemoteKeyLookup {
  readonly #keys = new Map<string, SigningKey>();

  add(serverName: string, key: SigningKey): void {
    this.#keys.set(serverName, key);
  }

  async verifyKey(serverName: string, keyId: string): Promise<Uint8Array | undefined> {
    const key = this.#keys.get(serverName);
    return key !== undefined && key.keyId === keyId ? key.publicKey : undefined;
  }
}

/** `queueFederation`: queue local events for federation, as a node with federation on does. */
export function localRoomserver(db: StoaDatabase, keyring: TestKeyring, clock?: () => number, options: { queueFederation?: boolean } = {}): Roomserver {
  return new Roomserver({
    db,
    serverName: 'local.test',
    signingKey: testKey(1),
    logger: silentLogger,
    remoteKeys: keyring,
    ...(clock === undefined ? {} : { clock }),
    ...(options.queueFederation === undefined ? {} : { queueFederation: options.queueFederation }),
  });
}

export interface RemoteEventInput {
  readonly type: string;
  readonly stateKey?: string;
  readonly sender: string;
  readonly content: JsonObject;
  /** Default: the room's forward extremities on the local server. */
  readonly prevEvents?: readonly string[];
  /** The state the auth events are selected from: default the state after the first prev event. */
  readonly stateFrom?: string;
  readonly redacts?: string;
  readonly originServerTs?: number;
}

/** A remote homeserver that builds events from what the local roomserver has stored. */
export class RemoteServer {
  readonly serverName: string;
  readonly key: SigningKey;
  #counter = 0;

  constructor(serverName: string, key: SigningKey) {
    this.serverName = serverName;
    this.key = key;
  }

  async buildEvent(local: Roomserver, roomId: string, input: RemoteEventInput): Promise<JsonObject> {
    const version = await local.roomVersion(roomId);
    const rules = version === undefined ? undefined : roomVersionRules(version);
    if (rules === undefined) throw new Error(`unknown room ${roomId}`);
    const prevIds = input.prevEvents ?? (await local.forwardExtremities(roomId));
    const prevEvents = [];
    for (const id of prevIds) {
      const event = await local.event(id, 'stored');
      if (event === undefined) throw new Error(`unknown prev event ${id}`);
      const hashes = getField(event.json, 'hashes');
      prevEvents.push({ eventId: id, depth: event.depth, ...(isJsonObject(hashes) ? { hashes } : {}) });
    }
    const stateFrom = input.stateFrom ?? prevIds[0];
    const state = stateFrom === undefined ? new Map<string, string>() : ((await local.stateAt(stateFrom, 'after')) ?? new Map());
    const authIds = selectAuthEvents(
      rules,
      { type: input.type, stateKey: input.stateKey, sender: input.sender, content: input.content },
      (type, stateKey) => state.get(stateKeyOf(type, stateKey)),
    );
    const authEvents = [];
    for (const id of authIds) {
      const hashes = (await local.event(id, 'stored'))?.json['hashes'];
      authEvents.push({ eventId: id, ...(isJsonObject(hashes) ? { hashes } : {}) });
    }
    const built = buildEvent({
      rules,
      roomId,
      type: input.type,
      ...(input.stateKey === undefined ? {} : { stateKey: input.stateKey }),
      sender: input.sender,
      content: input.content,
      originServerTs: input.originServerTs ?? 1_700_000_000_000 + this.#counter,
      prevEvents,
      authEvents,
      ...(input.redacts === undefined ? {} : { redacts: input.redacts }),
      ...(rules.format.requireEventIdField ? { eventIdLocalpart: `remote${++this.#counter}` } : {}),
    });
    this.#counter++;
    return signEvent(built, this.serverName, this.key, rules);
  }
}
