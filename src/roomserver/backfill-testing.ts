// Test rig for backfill (server-server § "Backfilling and retrieving missing events"): a
// room on an "origin" roomserver that the local roomserver learns from its latest event
// only, so everything before that is history to backfill, over a fake federation answered
// from the origin's store. Not imported by production code.

import assert from 'node:assert/strict';
import type { JsonObject } from '../rooms/json.ts';
import type { StoaDatabase } from '../storage/index.ts';
import type { FederationFetcher } from './ports.ts';
import { Roomserver } from './roomserver.ts';
import { silentLogger, testKey, TestKeyring } from './testing.ts';

export const ORIGIN = 'origin.test';
/** A user of the origin server. */
export const BOB = '@bob:origin.test';

/** The origin's side of the federation API, answered from its roomserver. */
export class OriginFederation implements FederationFetcher {
  readonly origin: Roomserver;
  /** Events get_missing_events never gives (so they stay history). */
  readonly hidden = new Set<string>();
  /** While true, /backfill fails as an unreachable server's does. */
  down = false;
  /** /backfill requests made, answered or not. */
  backfillRequests = 0;
  /** The events /state_ids was asked about. */
  readonly stateIdsAsked: string[] = [];

  constructor(origin: Roomserver) {
    this.origin = origin;
  }

  async fetchEvent(_destination: string, eventId: string): Promise<JsonObject | undefined> {
    return (await this.origin.event(eventId, 'stored'))?.json;
  }

  async getMissingEvents(_d: string, _roomId: string, earliest: readonly string[], latest: readonly string[], limit: number): Promise<JsonObject[]> {
    const seen = new Set<string>(earliest);
    const out: JsonObject[] = [];
    let frontier = [...latest];
    while (frontier.length > 0 && out.length < limit) {
      const next: string[] = [];
      for (const id of frontier) {
        const event = await this.origin.event(id, 'stored');
        for (const prev of (event?.json['prev_events'] as string[] | undefined) ?? []) {
          if (seen.has(prev) || this.hidden.has(prev)) continue;
          seen.add(prev);
          const json = (await this.origin.event(prev, 'stored'))?.json;
          if (json !== undefined && out.length < limit) out.push(json);
          next.push(prev);
        }
      }
      frontier = next;
    }
    return out;
  }

  async backfill(_d: string, _roomId: string, from: readonly string[], limit: number): Promise<JsonObject[]> {
    this.backfillRequests++;
    if (this.down) throw new Error('connect ETIMEDOUT');
    const seen = new Set<string>();
    const out: JsonObject[] = [];
    let frontier = [...from];
    while (frontier.length > 0 && out.length < limit) {
      const next: string[] = [];
      for (const id of frontier) {
        if (seen.has(id) || out.length >= limit) continue;
        seen.add(id);
        const json = (await this.origin.event(id, 'stored'))?.json;
        if (json === undefined) continue;
        out.push(json);
        next.push(...((json['prev_events'] as string[] | undefined) ?? []));
      }
      frontier = next;
    }
    return out;
  }

  async stateIds(_d: string, _roomId: string, eventId: string): Promise<{ stateIds: string[]; authChainIds: string[] } | undefined> {
    this.stateIdsAsked.push(eventId);
    const state = await this.origin.stateAt(eventId, 'before');
    if (state === undefined) return undefined;
    const stateIds = [...state.values()];
    return { stateIds, authChainIds: await this.origin.authChain(stateIds) };
  }
}

export interface BackfillRig {
  readonly origin: Roomserver;
  readonly federation: OriginFederation;
  readonly keyring: TestKeyring;
}

/** The origin roomserver over `originDb`, and the fake federation answering from it. */
export function backfillRig(originDb: StoaDatabase): BackfillRig {
  const keyring = new TestKeyring();
  keyring.add(ORIGIN, testKey(2));
  keyring.add('local.test', testKey(1));
  const origin = new Roomserver({ db: originDb, serverName: ORIGIN, signingKey: testKey(2), logger: silentLogger, remoteKeys: keyring });
  return { origin, federation: new OriginFederation(origin), keyring };
}

/**
 * A room on the origin whose history `write` fills (it returns the event IDs it sent),
 * then two messages, which are all `local` receives: the rest is history to backfill.
 */
export async function roomToBackfill(rig: BackfillRig, local: Roomserver, write: (roomId: string) => Promise<string[]>): Promise<{ roomId: string; history: string[]; last: string }> {
  const { roomId, eventIds } = await rig.origin.createRoom({
    creator: BOB,
    roomVersion: '10',
    initialState: [
      { type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } },
      { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'shared' } },
    ],
  });
  const history = [...eventIds, ...(await write(roomId))];
  for (const id of history) rig.federation.hidden.add(id);
  // Given by get_missing_events, so its state comes from /state_ids and both join the timeline.
  await rig.origin.sendEvent({ roomId, sender: BOB, type: 'm.room.message', content: { msgtype: 'm.text', body: 'the edge' } });
  const last = await rig.origin.sendEvent({ roomId, sender: BOB, type: 'm.room.message', content: { msgtype: 'm.text', body: 'the latest' } });
  const received = await local.receivePdu((await rig.origin.event(last.eventId, 'stored'))!.json, ORIGIN, { roomVersion: '10' });
  assert.equal(received.outcome, 'accepted', JSON.stringify(received));
  return { roomId, history, last: last.eventId };
}
