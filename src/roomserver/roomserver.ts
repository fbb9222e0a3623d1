// The roomserver: the only writer of the room DAG. Local sends and federation receives go
// through one pipeline (./pipeline.ts), serialised per room by an in-process queue and, in
// the database, by the room's advisory lock; committed events are announced on the typed
// output. Queries for the client API read current state and the timeline.

import { randomBytes } from 'node:crypto';
import { signEvent } from '../crypto/event-signing.ts';
import type { SigningKey } from '../crypto/signing-key.ts';
import type { SignatureVerdict } from '../rooms/checks-on-receipt.ts';
import { stateKeyOf, type StateKey, type StateMap } from '../rooms/event-view.ts';
import { isJsonObject, type JsonObject } from '../rooms/json.ts';
import { buildCreateEvent, buildEvent, selectAuthEvents, type PrevEventRef } from '../rooms/pdu/build.ts';
import { parsePdu, type ParsedPdu } from '../rooms/pdu/parse.ts';
import { serverNameOf } from '../rooms/identifiers.ts';
import { redactEvent } from '../rooms/redaction.ts';
import { roomVersionRules, type RoomVersionRules } from '../rooms/room-versions.ts';
import { RoomStore, type CurrentStateEntry, type Direction, type StoaDatabase, type StoredEvent } from '../storage/index.ts';
import { BackfillMemory } from './backfill-memory.ts';
import { BackfillPositions } from './backfill-positions.ts';
import { InvalidEventError, RoomNotFoundError, RoomserverError, UnsupportedRoomVersionError } from './errors.ts';
import { EventCache } from './event-cache.ts';
import { prepareRemoteJoin, seedRemoteJoin, type RemoteJoinInput } from './join-remote.ts';
import { prepareOutOfBand, storeOutOfBand, type OutOfBandMembershipInput } from './out-of-band.ts';
import { RoomserverOutput, type NewEventListener, type NewRoomEvent } from './output.ts';
import { roomIdOf, runPipeline, type PipelineEnv, type PipelineOutcome } from './pipeline.ts';
import type { FederationFetcher, RemoteKeyLookup, RoomserverLogger } from './ports.ts';
import { QueryCache } from './query-cache.ts';
import { RoomEventCache } from './room-cache.ts';
import { RoomQueue } from './room-queue.ts';
import { SignatureChecker } from './signatures.ts';
import { SnapshotCache, stateBeforeFromPrevs, type StateContext } from './state.ts';
import { Cluster } from '../storage/cluster/cluster.ts';
import type { StreamPositions } from '../storage/cluster/stream-positions.ts';

/** "The server SHOULD NOT … more than 20 prev_events" (pdu_v4 `prev_events`). */
const MAX_PREV_EVENTS = 20;
/** How many rounds of fetching missing events one received PDU may start. */
const MAX_FETCH_DEPTH = 3;
/** Events asked for per get_missing_events call (what Stoa's own endpoint serves at most). */
const MISSING_EVENTS_LIMIT = 50;
/**
 * How many events one gap may pull in with repeated get_missing_events calls (a peer that
 * was partitioned away sends only its latest event when it comes back). Beyond this the
 * event stays an outlier rather than make one PDU cost unbounded work.
 */
const MAX_GAP_EVENTS = 1_000;
/** /state_ids requests one received PDU may make for the edges of a gap it could not fill. */
const MAX_STATE_LOOKUPS = 3;
/** Resident servers one backfill asks in turn before giving up (each may take a request timeout). */
const MAX_BACKFILL_SERVERS = 3;

export interface RoomserverOptions {
  readonly db: StoaDatabase;
  readonly serverName: string;
  readonly signingKey: SigningKey;
  readonly logger: RoomserverLogger;
  /** Milliseconds since the epoch; default Date.now. */
  readonly clock?: () => number;
  readonly remoteKeys?: RemoteKeyLookup;
  readonly federation?: FederationFetcher;
  /** Told how long each state resolution took, in seconds (the operator's metrics). */
  readonly onStateResolved?: (seconds: number) => void;
  /** The processes sharing the database (DESIGN.md "Scale"); default: this one alone. */
  readonly cluster?: Cluster;
  /**
   * Queue the events that originate here for federation in their own write transaction
   * (federation on). Default false: nothing is sent anywhere.
   */
  readonly queueFederation?: boolean;
}

/** The room-event stream's key in the cluster's announcements. */
const EVENTS_STREAM = 'e';
/** The cluster channel carrying the room events each process committed. */
const EVENTS_CHANNEL = 'events';
/** … and the rooms whose state they changed, with the members concerned (null: any). */
const TOUCHED_CHANNEL = 'rooms-touched';
/** … and the rooms whose stored events were purged outside the pipeline. */
const FORGOTTEN_CHANNEL = 'rooms-forgotten';

export interface StateEventInput {
  readonly type: string;
  readonly stateKey: string;
  readonly content: JsonObject;
}

export interface CreateRoomInput {
  readonly creator: string;
  readonly roomVersion: string;
  /** `m.room.create` content; `room_version` and (v1–v10) `creator` are filled in. */
  readonly createContent?: JsonObject;
  /** Extra content of the creator's join (displayname, avatar_url). */
  readonly creatorMemberContent?: JsonObject;
  /** State events after the create event and the creator's join, in this order. */
  readonly initialState?: readonly StateEventInput[];
  /** v1–v11: the opaque part of the room ID; random when absent. */
  readonly roomIdLocalpart?: string;
}

export interface SendEventInput {
  readonly roomId: string;
  readonly sender: string;
  readonly type: string;
  readonly stateKey?: string;
  readonly content: JsonObject;
  /** For m.room.redaction: the event to redact (placed where the room version wants it). */
  readonly redacts?: string;
  /** Client transaction ID: a retry with the same (sender, device, txnId) returns the first event. */
  readonly txnId?: string;
  readonly deviceId?: string;
}

export interface SetMembershipInput {
  readonly roomId: string;
  readonly sender: string;
  readonly target: string;
  readonly membership: 'join' | 'leave' | 'invite' | 'ban' | 'knock';
  readonly reason?: string;
  readonly extraContent?: JsonObject;
  readonly txnId?: string;
  readonly deviceId?: string;
}

export interface SentEvent {
  readonly eventId: string;
  readonly streamOrdering: number;
}

interface WaitingSend {
  readonly input: SendEventInput;
  resolve(sent: SentEvent): void;
  reject(error: unknown): void;
}

/** At most this many sends share one write transaction. */
const MAX_GROUP_COMMIT = 64;

export type ReceiveOutcome = 'accepted' | 'soft-failed' | 'rejected' | 'outlier' | 'dropped' | 'duplicate';

export interface ReceiveResult {
  readonly outcome: ReceiveOutcome;
  /** Absent only when the PDU was dropped before an ID could be computed. */
  readonly eventId?: string;
  readonly check?: number;
  readonly rule?: string;
  readonly reason?: string;
  /** Check 3 failed: the redacted copy was processed and stored. */
  readonly redactedForHash?: boolean;
}

export interface ReceiveOptions {
  readonly roomVersion: string;
}

/** An event as stored, for clients and federation. */
export interface RoomEvent {
  readonly eventId: string;
  readonly roomId: string;
  /** The event JSON; redacted when a redaction applies and the caller asked for the client view. */
  readonly json: JsonObject;
  readonly streamOrdering: number | null;
  readonly depth: number;
  readonly type: string;
  readonly stateKey: string | undefined;
  readonly sender: string;
  readonly originServerTs: number;
  readonly roomVersion: string;
  readonly outlier: boolean;
  readonly rejectedReason: string | null;
  readonly softFailed: boolean;
  readonly redactedBy: string | null;
}

export interface EventsInRangeQuery {
  readonly roomId: string;
  /** Exclusive lower bound. */
  readonly fromStream: number;
  /** Inclusive upper bound. */
  readonly toStream: number;
  readonly limit: number;
  /** forward: oldest first from `fromStream`; backward: newest first from `toStream`. */
  readonly direction: Direction;
}

export class Roomserver {
  readonly #db: StoaDatabase;
  readonly #store: RoomStore;
  readonly #serverName: string;
  readonly #signingKey: SigningKey;
  readonly #logger: RoomserverLogger;
  readonly #clock: () => number;
  readonly #remoteKeys: RemoteKeyLookup | undefined;
  readonly #federation: FederationFetcher | undefined;
  readonly #onStateResolved: ((seconds: number) => void) | undefined;
  readonly #queue = new RoomQueue();
  /** Per room: sends waiting for the next write (group commit). */
  readonly #waitingSends = new Map<string, WaitingSend[]>();
  /** One backfill per room at a time: a batch's positions are reserved in order, below the last. */
  readonly #backfills = new RoomQueue();
  readonly #backfillMemory: BackfillMemory;
  readonly #backfillPositions: BackfillPositions;
  readonly #output: RoomserverOutput;
  readonly #snapshots = new SnapshotCache();
  readonly #roomEvents = new RoomEventCache();
  readonly #queries: QueryCache;
  /** Room versions never change once a room exists. */
  readonly #roomVersions = new Map<string, string>();
  #tracker: Promise<StreamPositions> | undefined;
  readonly #cluster: Cluster;
  readonly #queueFederation: boolean;
  readonly #positionListeners = new Set<(position: number) => void>();

  constructor(options: RoomserverOptions) {
    this.#db = options.db;
    this.#store = new RoomStore(options.db);
    this.#serverName = options.serverName;
    this.#signingKey = options.signingKey;
    this.#logger = options.logger;
    this.#clock = options.clock ?? Date.now;
    this.#remoteKeys = options.remoteKeys;
    this.#federation = options.federation;
    this.#onStateResolved = options.onStateResolved;
    this.#output = new RoomserverOutput(options.logger);
    this.#queries = new QueryCache({ clock: this.#clock });
    this.#cluster = options.cluster ?? new Cluster({ logger: options.logger });
    this.#queueFederation = options.queueFederation ?? false;
    this.#backfillMemory = new BackfillMemory({ clock: this.#clock });
    this.#backfillPositions = new BackfillPositions(this.#cluster, this.#store.events);
    this.#cluster.onAttachment(EVENTS_CHANNEL, (item) => this.#committedElsewhere(item as NewRoomEvent));
    this.#cluster.onAttachment(FORGOTTEN_CHANNEL, (roomId) => {
      if (typeof roomId === 'string') this.#forgetRoomHere(roomId);
    });
    // The room events cache checks a room's head under its lock; the query cache hears here.
    this.#cluster.onAttachment(TOUCHED_CHANNEL, (item) => {
      const touched = item as { roomId?: unknown; members?: unknown };
      if (typeof touched.roomId !== 'string') return;
      const members = Array.isArray(touched.members) ? new Set(touched.members.filter((m): m is string => typeof m === 'string')) : undefined;
      this.#invalidateQueries(touched.roomId, members);
    });
  }

  get serverName(): string {
    return this.#serverName;
  }

  /** The processes sharing the database (the other streams share positions through it too). */
  get cluster(): Cluster {
    return this.#cluster;
  }

  onNewEvent(listener: NewEventListener): () => void {
    return this.#output.onNewEvent(listener);
  }

  // --- input: local events -------------------------------------------------------------------

  async createRoom(input: CreateRoomInput): Promise<{ roomId: string; eventIds: string[] }> {
    const rules = rulesOrThrow(input.roomVersion);
    const create = buildCreateEvent({
      rules,
      sender: input.creator,
      content: input.createContent ?? {},
      originServerTs: this.#clock(),
      ...(rules.format.createHasRoomId ? { roomIdLocalpart: input.roomIdLocalpart ?? randomLocalpart() } : {}),
      ...(rules.format.requireEventIdField ? { eventIdLocalpart: randomLocalpart() } : {}),
    });
    const roomId = create.roomId;
    const signedCreate = signEvent(create.event, this.#serverName, this.#signingKey, rules);
    const steps: Array<Omit<SendEventInput, 'roomId'>> = [
      {
        sender: input.creator,
        type: 'm.room.member',
        stateKey: input.creator,
        content: { ...(input.creatorMemberContent ?? {}), membership: 'join' },
      },
      ...(input.initialState ?? []).map((s) => ({ sender: input.creator, type: s.type, stateKey: s.stateKey, content: s.content })),
    ];
    const eventIds = await this.#queue.run(roomId, () => this.#write(roomId, async (env) => {
      if ((await env.store.rooms.byId(roomId)) !== undefined) {
        throw new RoomserverError(`room ${roomId} already exists`);
      }
      const ids: string[] = [];
      const outcome = await runPipeline(env, {
        pdu: parseLocal(signedCreate, rules),
        text: JSON.stringify(signedCreate),
        signatures: { valid: true },
        origin: this.#serverName,
        local: true,
      });
      ids.push(acceptedLocal(outcome).eventId);
      const outputs = [outputOf(outcome)];
      for (const step of steps) {
        const sent = await this.#sendInTransaction(env, rules, { ...step, roomId });
        ids.push(sent.eventId);
        outputs.push(outputOf(sent.outcome));
      }
      return { value: ids, outputs };
    }));
    this.#logger.info({ roomId, roomVersion: rules.id, creator: input.creator }, 'room created');
    return { roomId, eventIds };
  }

  /**
   * Sends waiting for the same room share one write transaction (group commit): one lock,
   * one commit and one fsync for all of them, each still built on the one before. A send
   * the auth rules refuse fails alone (it wrote nothing); the others commit.
   */
  async sendEvent(input: SendEventInput): Promise<SentEvent> {
    const roomVersion = await this.roomVersion(input.roomId);
    if (roomVersion === undefined) throw new RoomNotFoundError(input.roomId);
    const rules = rulesOrThrow(roomVersion);
    return new Promise<SentEvent>((resolve, reject) => {
      const waiting = this.#waitingSends.get(input.roomId);
      if (waiting !== undefined && waiting.length < MAX_GROUP_COMMIT) {
        waiting.push({ input, resolve, reject });
        return;
      }
      const batch: WaitingSend[] = [{ input, resolve, reject }];
      this.#waitingSends.set(input.roomId, batch);
      void this.#queue.run(input.roomId, () => {
        // From here on later sends start the next batch.
        if (this.#waitingSends.get(input.roomId) === batch) this.#waitingSends.delete(input.roomId);
        return this.#sendBatch(input.roomId, rules, batch);
      });
    });
  }

  async #sendBatch(roomId: string, rules: RoomVersionRules, batch: readonly WaitingSend[]): Promise<void> {
    let results: Array<{ ok: true; sent: SentEvent } | { ok: false; error: unknown }>;
    try {
      results = await this.#write(roomId, async (env) => {
        const value: Array<{ ok: true; sent: SentEvent } | { ok: false; error: unknown }> = [];
        const outputs: Array<NewRoomEvent | undefined> = [];
        for (const { input } of batch) {
          try {
            const sent = await this.#sendInTransaction(env, rules, input);
            value.push({ ok: true, sent: { eventId: sent.eventId, streamOrdering: sent.streamOrdering } });
            outputs.push(outputOf(sent.outcome));
          } catch (error) {
            // Our refusals come before the event's first write; anything else fails the batch.
            if (!(error instanceof RoomserverError)) throw error;
            value.push({ ok: false, error });
          }
        }
        return { value, outputs };
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    for (const [i, waiting] of batch.entries()) {
      const result = results[i];
      if (result?.ok === true) waiting.resolve(result.sent);
      else waiting.reject(result?.error ?? new Error('unreachable: no result for a send'));
    }
  }

  setMembership(input: SetMembershipInput): Promise<SentEvent> {
    const content: JsonObject = { ...(input.extraContent ?? {}), membership: input.membership };
    if (input.reason !== undefined) content['reason'] = input.reason;
    return this.sendEvent({
      roomId: input.roomId,
      sender: input.sender,
      type: 'm.room.member',
      stateKey: input.target,
      content,
      ...(input.txnId === undefined ? {} : { txnId: input.txnId }),
      ...(input.deviceId === undefined ? {} : { deviceId: input.deviceId }),
    });
  }

  async #sendInTransaction(
    env: PipelineEnv,
    rules: RoomVersionRules,
    input: SendEventInput,
  ): Promise<{ eventId: string; streamOrdering: number; outcome: PipelineOutcome | undefined }> {
    const { store } = env;
    const txn =
      input.txnId === undefined
        ? undefined
        : { roomId: input.roomId, userId: input.sender, deviceId: input.deviceId ?? '', txnId: input.txnId };
    // One round trip: the extremities to build on, whether the room changed under another
    // writer since this process last wrote to it, and an earlier send with this txnId.
    const head = await store.events.roomHead(input.roomId, txn);
    const earlier = head.transactionEvent;
    if (earlier !== undefined && earlier.streamOrdering !== null) {
      return { eventId: earlier.eventId, streamOrdering: earlier.streamOrdering, outcome: undefined };
    }
    // A send after another in the same write builds on what that one loaded and stored (the
    // room's head moved by this write only: the room is locked).
    let cache = env.caches.at(-1);
    if (cache === undefined) {
      cache = new EventCache(store, env.roomEvents.validate(input.roomId, head.maxStreamOrdering));
      env.caches.push(cache);
    }

    const extremities = head.extremities.slice(0, MAX_PREV_EVENTS);
    await cache.load(extremities.map((e) => e.eventId));
    const prevEvents: PrevEventRef[] = extremities.map((e) => {
      const hashes = cache.get(e.eventId)?.json['hashes'];
      return { eventId: e.eventId, depth: e.depth, ...(isJsonObject(hashes) ? { hashes } : {}) };
    });
    const ctx: StateContext = {
      store,
      cache,
      snapshots: this.#snapshots,
      onStateResolved: this.#onStateResolved,
      rules,
      signatures: new SignatureChecker(this.#serverName, this.#signingKey, this.#remoteKeys),
    };
    const stateBefore = await stateBeforeFromPrevs(
      ctx,
      prevEvents.map((p) => p.eventId),
    );
    if (stateBefore === undefined || prevEvents.length === 0) throw new RoomNotFoundError(input.roomId);
    const authEvents = selectAuthEvents(
      rules,
      { type: input.type, stateKey: input.stateKey, sender: input.sender, content: input.content },
      (type, stateKey) => stateBefore.state.get(stateKeyOf(type, stateKey)),
    );
    await ctx.cache.load(authEvents);
    const built = buildEvent({
      rules,
      roomId: input.roomId,
      type: input.type,
      ...(input.stateKey === undefined ? {} : { stateKey: input.stateKey }),
      sender: input.sender,
      content: input.content,
      originServerTs: this.#clock(),
      prevEvents,
      authEvents: authEvents.map((id) => {
        const hashes = ctx.cache.get(id)?.json['hashes'];
        return { eventId: id, ...(isJsonObject(hashes) ? { hashes } : {}) };
      }),
      ...(input.redacts === undefined ? {} : { redacts: input.redacts }),
      ...(rules.format.requireEventIdField ? { eventIdLocalpart: randomLocalpart() } : {}),
    });
    const signed = signEvent(built, this.#serverName, this.#signingKey, rules);
    const outcome = await runPipeline(env, {
      pdu: parseLocal(signed, rules),
      text: JSON.stringify(signed),
      signatures: { valid: true },
      origin: this.#serverName,
      local: true,
      ...(txn === undefined ? {} : { txn }),
      head,
      cache,
    });
    const accepted = acceptedLocal(outcome);
    return { eventId: accepted.eventId, streamOrdering: accepted.streamOrdering, outcome };
  }

  // --- input: federation ---------------------------------------------------------------------

  /**
   * A PDU from `origin` (a transaction, a join, backfill): the checks on receipt, then
   * stored as accepted, soft-failed, rejected or outlier. Never throws for bad input.
   */
  async receivePdu(raw: string | JsonObject, origin: string, options: ReceiveOptions): Promise<ReceiveResult> {
    const parsed = parsePdu({ raw, roomVersion: options.roomVersion });
    if (!parsed.ok) return { outcome: 'dropped', check: 1, reason: parsed.error.message };
    let roomId: string;
    try {
      roomId = roomIdOf(parsed.pdu);
    } catch (cause) {
      return { outcome: 'dropped', eventId: parsed.pdu.eventId, check: 1, reason: `no room ID: ${String(cause)}` };
    }
    return this.#receive(parsed.pdu, typeof raw === 'string' ? raw : JSON.stringify(raw), origin, roomId, {
      depth: 0,
      fetchPrevs: true,
    });
  }

  /**
   * The network work a received PDU needs — its signers' keys, the auth and prev events it
   * names that are not here — runs before the room's queue is taken: a peer that answers
   * slowly, or never, holds up only its own PDU, not the room's local sends. Only the checks
   * that need the room's head, and persistence, run under the queue.
   */
  async #receive(
    pdu: ParsedPdu,
    text: string,
    origin: string,
    roomId: string,
    fetch: { depth: number; fetchPrevs: boolean; asOutlier?: boolean },
    /** The state before it, from /state_ids, when its prev events are beyond a gap that was not filled. */
    stateBefore?: StateMap,
  ): Promise<ReceiveResult> {
    const mismatch = await this.#versionMismatch(pdu, roomId);
    if (mismatch !== undefined) return mismatch;
    // A PDU held already costs no key or event fetches (checked again under the queue).
    if ((await this.#store.events.existing([pdu.eventId])).size > 0) return { outcome: 'duplicate', eventId: pdu.eventId };
    const signatures = new SignatureChecker(this.#serverName, this.#signingKey, this.#remoteKeys);
    const verdict = await signatures.verdict(pdu.json, pdu.rules);
    if (!verdict.valid) {
      this.#logger.info({ eventId: pdu.eventId, origin, reason: verdict.reason }, 'PDU dropped: signatures');
      return { outcome: 'dropped', eventId: pdu.eventId, check: 2, reason: verdict.reason };
    }
    let state = stateBefore;
    if (this.#federation !== undefined && fetch.depth < MAX_FETCH_DEPTH) {
      const atEdge = await this.#fetchMissing(pdu, origin, roomId, fetch);
      state ??= atEdge;
    }
    return this.#queue.run(roomId, () =>
      this.#persistReceived(pdu, text, origin, roomId, signatures, verdict, fetch.asOutlier === true ? 'outlier' : state),
    );
  }

  /** Under the room's queue, for a PDU whose signatures were checked. */
  async #persistReceived(
    pdu: ParsedPdu,
    text: string,
    origin: string,
    roomId: string,
    signatures: SignatureChecker,
    verdict: SignatureVerdict,
    /** 'outlier': stored as one whatever its prev events. */
    stateBefore?: StateMap | 'outlier',
  ): Promise<ReceiveResult> {
    // Again under the queue: the room may have been created here while keys and events were fetched.
    const mismatch = await this.#versionMismatch(pdu, roomId);
    if (mismatch !== undefined) return mismatch;
    let outcome: PipelineOutcome;
    try {
      outcome = await this.#write(
        roomId,
        async (env) => {
          const result = await runPipeline(env, {
            pdu,
            text,
            signatures: verdict,
            origin,
            local: false,
            ...(stateBefore === 'outlier' ? { outlier: true } : stateBefore === undefined ? {} : { stateBefore }),
          });
          return { value: result, outputs: [outputOf(result)] };
        },
        signatures,
      );
    } catch (err) {
      this.#logger.error({ err, eventId: pdu.eventId, origin }, 'PDU could not be stored');
      throw err;
    }
    return receiveResultOf(outcome);
  }

  async #versionMismatch(pdu: ParsedPdu, roomId: string): Promise<ReceiveResult | undefined> {
    const known = await this.roomVersion(roomId);
    if (known === undefined || known === pdu.rules.id) return undefined;
    return { outcome: 'dropped', eventId: pdu.eventId, check: 1, reason: `room ${roomId} has version ${known}` };
  }

  /**
   * Fetches unknown auth events (as outliers) and prev events (via get_missing_events), each
   * received in turn (its own network work outside the queue too). Called outside the queue.
   * When the origin answered but the gap stays open (larger than MAX_GAP_EVENTS, or events
   * it would not give), the events at its edge take their state from the origin's /state_ids
   * rather than become outliers; returns that state for `pdu` itself when it is at the edge.
   */
  async #fetchMissing(
    pdu: ParsedPdu,
    origin: string,
    roomId: string,
    fetch: { depth: number; fetchPrevs: boolean },
  ): Promise<StateMap | undefined> {
    const federation = this.#federation;
    if (federation === undefined) return;
    const next = { depth: fetch.depth + 1, fetchPrevs: false };
    const have = await this.#store.events.existing([...pdu.view.authEvents, ...pdu.view.prevEvents]);
    for (const authId of pdu.view.authEvents) {
      if (have.has(authId)) continue;
      const json = await federation.fetchEvent(origin, authId).catch(() => undefined);
      const fetched = json === undefined ? undefined : parsePdu({ raw: json, roomVersion: pdu.rules.id });
      if (fetched?.ok === true && fetched.pdu.eventId === authId) {
        await this.#receive(fetched.pdu, JSON.stringify(json), origin, roomId, { ...next, asOutlier: true });
      }
    }
    const missingPrevs = pdu.view.prevEvents.filter((id) => !have.has(id));
    if (!fetch.fetchPrevs || missingPrevs.length === 0) return;
    const earliest = (await this.#store.events.forwardExtremities(roomId)).map((e) => e.eventId);
    const parsed = [...(await this.#fetchGap(federation, origin, roomId, pdu, earliest)).values()].sort(
      (a, b) => a.pdu.view.depth - b.pdu.view.depth,
    );
    // An origin that gave nothing (down, or hanging) is not asked for state as well.
    let lookups = parsed.length === 0 ? MAX_STATE_LOOKUPS : 0;
    const stateAtEdge = async (event: ParsedPdu): Promise<StateMap | undefined> => {
      if (lookups >= MAX_STATE_LOOKUPS || event.view.prevEvents.length === 0) return undefined;
      const prevs = await this.#store.events.byIds(event.view.prevEvents);
      if (prevs.some((e) => e.stateBeforeSnapshotId !== null)) return undefined;
      lookups++;
      return this.#remoteStateBefore(federation, origin, roomId, event);
    };
    for (const missing of parsed) {
      await this.#receive(missing.pdu, JSON.stringify(missing.json), origin, roomId, next, await stateAtEdge(missing.pdu));
    }
    return stateAtEdge(pdu);
  }

  /**
   * The events between what we have (`earliest`) and `pdu`, asked for with
   * get_missing_events again from the oldest ones fetched so far, until their prev events
   * are all known, the origin has nothing more, or MAX_GAP_EVENTS is reached.
   */
  async #fetchGap(
    federation: FederationFetcher,
    origin: string,
    roomId: string,
    pdu: ParsedPdu,
    earliest: readonly string[],
  ): Promise<Map<string, { json: JsonObject; pdu: ParsedPdu }>> {
    const found = new Map<string, { json: JsonObject; pdu: ParsedPdu }>();
    let latest = [pdu.eventId];
    while (latest.length > 0 && found.size < MAX_GAP_EVENTS) {
      const events = await federation
        .getMissingEvents(origin, roomId, earliest, latest, MISSING_EVENTS_LIMIT)
        .catch(() => [] as JsonObject[]);
      let added = 0;
      for (const json of events) {
        const result = parsePdu({ raw: json, roomVersion: pdu.rules.id });
        if (!result.ok || result.pdu.eventId === pdu.eventId || found.has(result.pdu.eventId)) continue;
        found.set(result.pdu.eventId, { json, pdu: result.pdu });
        added++;
      }
      if (added === 0) break;
      // The next round starts from the fetched events whose prev events are still unknown.
      const referenced = new Set<string>();
      for (const { pdu: fetched } of found.values()) {
        for (const prev of fetched.view.prevEvents) if (!found.has(prev) && prev !== pdu.eventId) referenced.add(prev);
      }
      const stored = await this.#store.events.existing([...referenced]);
      const unknown = new Set([...referenced].filter((id) => !stored.has(id)));
      latest = [...found.values()].filter((f) => f.pdu.view.prevEvents.some((id) => unknown.has(id))).map((f) => f.pdu.eventId);
    }
    return found;
  }

  /**
   * Backfill (server-server § "Backfilling and retrieving missing events"): when a client
   * pages past the room's earliest timeline event and that event follows events not held
   * here (a room joined over federation), up to `limit` earlier events are asked of a
   * resident server, checked as on receipt and placed below the timeline. The network work
   * happens outside the room's queue. Returns how many events joined the timeline.
   */
  backfill(roomId: string, limit: number): Promise<number> {
    // Another backfill of the room may have run meanwhile: the earliest event is read inside.
    return this.#backfills.run(roomId, () => this.#backfill(roomId, limit));
  }

  async #backfill(roomId: string, limit: number): Promise<number> {
    const federation = this.#federation;
    if (federation?.backfill === undefined) return 0;
    const earliest = await this.#store.events.earliestTimelineEvent(roomId);
    if (earliest === undefined) return 0;
    const rules = rulesOrThrow(earliest.roomVersion);
    const prevs = parsePdu({ raw: earliest.json, roomVersion: rules.id });
    if (!prevs.ok) return 0;
    const known = await this.#store.events.byIds(prevs.pdu.view.prevEvents);
    const placedIds = new Set(known.filter((e) => e.streamOrdering !== null).map((e) => e.eventId));
    const from = prevs.pdu.view.prevEvents.filter((id) => !placedIds.has(id));
    if (from.length === 0) return 0;

    // The servers of the room's members, the earliest event's sender's first; those that
    // failed lately are left out for a while (./backfill-memory.ts).
    const servers = new Set<string>([serverNameOf(earliest.sender) ?? '']);
    for (const member of await this.#store.state.membersWithMembership(roomId, 'join')) servers.add(serverNameOf(member) ?? '');
    servers.delete('');
    servers.delete(this.#serverName);
    for (const server of [...servers].filter((s) => this.#backfillMemory.mayAsk(roomId, s)).slice(0, MAX_BACKFILL_SERVERS)) {
      const pdus = (await this.#backfillMemory.ask(roomId, server, async () => (await federation.backfill?.(server, roomId, from, limit)) ?? [])) ?? [];
      if (pdus.length === 0) continue;
      return this.#backfillPositions.placing(() => this.#placeBackfill(federation, server, roomId, rules, pdus));
    }
    return 0;
  }

  async #placeBackfill(
    federation: FederationFetcher,
    server: string,
    roomId: string,
    rules: RoomVersionRules,
    pdus: readonly JsonObject[],
  ): Promise<number> {
    const batch = new Map<string, { pdu: ParsedPdu; text: string; signatures: SignatureChecker; verdict: SignatureVerdict }>();
    for (const json of pdus) {
      const parsed = parsePdu({ raw: json, roomVersion: rules.id });
      if (!parsed.ok || batch.has(parsed.pdu.eventId)) continue;
      let eventRoom: string;
      try {
        eventRoom = roomIdOf(parsed.pdu);
      } catch {
        continue;
      }
      if (eventRoom !== roomId) continue;
      const signatures = new SignatureChecker(this.#serverName, this.#signingKey, this.#remoteKeys);
      const verdict = await signatures.verdict(parsed.pdu.json, parsed.pdu.rules);
      if (!verdict.valid) continue;
      batch.set(parsed.pdu.eventId, { pdu: parsed.pdu, text: JSON.stringify(json), signatures, verdict });
    }
    const stored = new Map((await this.#store.events.byIds([...batch.keys()])).map((e) => [e.eventId, e]));
    const fresh = [...batch.values()].filter((b) => (stored.get(b.pdu.eventId)?.streamOrdering ?? null) === null);
    // Oldest first, so each event's prev events are placed (with their state) before it.
    fresh.sort((a, b) => a.pdu.view.depth - b.pdu.view.depth);
    const positions = await this.#backfillPositions.reserve(fresh.length);
    let placed = 0;
    for (const [i, item] of fresh.entries()) {
      const { pdu } = item;
      const prevIds = pdu.view.prevEvents;
      const prevRows = await this.#store.events.byIds(prevIds);
      const prevHasState = prevRows.some((e) => e.stateBeforeSnapshotId !== null);
      let stateBefore: StateMap | undefined;
      if (prevIds.length > 0 && !prevHasState) {
        stateBefore = await this.#remoteStateBefore(federation, server, roomId, pdu);
        if (stateBefore === undefined) continue;
      }
      // Unknown auth events are fetched (as outliers) before the queue is taken.
      await this.#fetchMissing(pdu, server, roomId, { depth: 1, fetchPrevs: false });
      const streamOrdering = positions[i];
      if (streamOrdering === undefined) break;
      const outcome = await this.#queue.run(roomId, () =>
        this.#write(
          roomId,
          async (env) => {
            const result = await runPipeline(env, {
              pdu,
              text: item.text,
              signatures: item.verdict,
              origin: server,
              local: false,
              historical: { streamOrdering },
              ...(stateBefore === undefined ? {} : { stateBefore }),
            });
            return { value: result, outputs: [] };
          },
          item.signatures,
        ),
      );
      if (outcome.kind === 'stored' && outcome.streamOrdering !== null) placed++;
    }
    this.#logger.info({ roomId, server, received: pdus.length, placed }, 'backfilled');
    return placed;
  }

  /** The state before `pdu` as `server` has it (/state_ids), its events fetched as outliers when missing. */
  async #remoteStateBefore(federation: FederationFetcher, server: string, roomId: string, pdu: ParsedPdu): Promise<StateMap | undefined> {
    const ids = await federation.stateIds?.(server, roomId, pdu.eventId).catch(() => undefined);
    if (ids === undefined) return undefined;
    const have = await this.#store.events.existing(ids.stateIds);
    for (const id of ids.stateIds) {
      if (have.has(id)) continue;
      const json = await federation.fetchEvent(server, id).catch(() => undefined);
      const fetched = json === undefined ? undefined : parsePdu({ raw: json, roomVersion: pdu.rules.id });
      if (fetched?.ok === true && fetched.pdu.eventId === id) {
        await this.#receive(fetched.pdu, JSON.stringify(json), server, roomId, { depth: 1, fetchPrevs: false, asOutlier: true });
      }
    }
    const state = new Map<StateKey, string>();
    for (const event of await this.#store.events.byIds(ids.stateIds)) {
      if (event.roomId !== roomId || event.stateKey === null || event.rejectedReason !== null) continue;
      state.set(stateKeyOf(event.type, event.stateKey), event.eventId);
    }
    return state;
  }

  /**
   * Seeds a room this server joined over federation from the send_join response
   * (./join-remote.ts): the state and auth chain as checked outliers, the join on top.
   */
  async joinRemoteRoom(input: RemoteJoinInput): Promise<SentEvent> {
    const rules = rulesOrThrow(input.roomVersion);
    const signatures = new SignatureChecker(this.#serverName, this.#signingKey, this.#remoteKeys);
    const prepared = await prepareRemoteJoin(input, signatures);
    return this.#queue.run(input.roomId, () =>
      this.#write(input.roomId, (env) => seedRemoteJoin(env, prepared, signatures.isSignedBy(rules))),
    );
  }

  /**
   * A local user's invite, rejection or knock in a room that may not be held here
   * (./out-of-band.ts). When the room is held, the event takes the ordinary path.
   */
  async receiveOutOfBandMembership(input: OutOfBandMembershipInput): Promise<ReceiveResult> {
    const signatures = new SignatureChecker(this.#serverName, this.#signingKey, this.#remoteKeys);
    const checked = await prepareOutOfBand(input, this.#serverName, signatures);
    if (!checked.ok) return { outcome: 'dropped', ...(checked.eventId === undefined ? {} : { eventId: checked.eventId }), reason: checked.reason };
    const { prepared } = checked;
    if ((await this.roomVersion(prepared.roomId)) !== undefined) {
      return this.#receive(prepared.pdu, prepared.text, input.origin, prepared.roomId, { depth: 0, fetchPrevs: true });
    }
    return this.#queue.run(prepared.roomId, async () => {
      if ((await this.#store.rooms.roomVersion(prepared.roomId)) !== undefined) {
        // The room arrived meanwhile: the ordinary path, without fetching under the queue.
        return this.#persistReceived(prepared.pdu, prepared.text, input.origin, prepared.roomId, signatures, prepared.verdict);
      }
      if ((await this.#store.events.existing([prepared.pdu.eventId])).size > 0) return { outcome: 'duplicate', eventId: prepared.pdu.eventId };
      const stored = await this.#write(prepared.roomId, (env) => storeOutOfBand(env, prepared));
      return { outcome: 'outlier', eventId: stored.eventId };
    });
  }

  // --- the write path --------------------------------------------------------------------------

  /**
   * Runs `work` in the room's write transaction (the caller holds the room's queue), then settles the stream positions
   * it allocated and announces its outputs, only once the transaction committed.
   */
  async #write<T>(
    roomId: string,
    work: (env: PipelineEnv) => Promise<{ value: T; outputs: Array<NewRoomEvent | undefined> }>,
    /** Keys already looked up for the events written (received ones: checked before queueing). */
    signatures?: SignatureChecker,
  ): Promise<T> {
    const tracker = await this.#streamTracker();
    const run = async (): Promise<T> => {
      const allocated: number[] = [];
      const caches: EventCache[] = [];
      const touched = { state: false, members: new Set<string>() };
      let result: { value: T; outputs: Array<NewRoomEvent | undefined> };
      try {
        result = await this.#store.writeTransaction(roomId, async (store) =>
          this.#queuedForFederation(store, roomId, await work({
            store,
            snapshots: this.#snapshots,
            onStateResolved: this.#onStateResolved,
            signatures: signatures ?? new SignatureChecker(this.#serverName, this.#signingKey, this.#remoteKeys),
            tracker,
            now: this.#clock(),
            allocated,
            roomEvents: this.#roomEvents,
            caches,
            touched,
          })),
        );
      } catch (err) {
        for (const position of allocated) tracker.abandoned(position);
        // A refusal of ours (an event not allowed, an unknown room) comes before the commit and
        // rolled everything back. Anything else may have failed at the commit, which may still
        // have happened: trust nothing cached about the room.
        if (!(err instanceof RoomserverError)) {
          this.#roomEvents.forget(roomId);
          this.#invalidateQueries(roomId, undefined);
        }
        throw err;
      }
      for (const cache of caches) this.#roomEvents.publish(roomId, cache.loadedEvents, cache.redactedEvents, allocated);
      if (caches.length === 0) {
        // Not the pipeline (a remote join's seeding, an out-of-band membership): what it
        // changed is not tracked, so trust nothing cached about the room.
        this.#roomEvents.forget(roomId);
        this.#invalidateQueries(roomId, undefined);
        this.#cluster.attach(TOUCHED_CHANNEL, { roomId, members: null });
      } else if (touched.state) {
        this.#invalidateQueries(roomId, touched.members);
        // A long list would not fit a message: the others then forget every user's queries.
        this.#cluster.attach(TOUCHED_CHANNEL, { roomId, members: touched.members.size > 100 ? null : [...touched.members] });
      }
      for (const output of result.outputs) {
        if (output === undefined) continue;
        this.#cluster.attach(EVENTS_CHANNEL, output);
      }
      for (const position of allocated) tracker.committed(position);
      for (const output of result.outputs) if (output !== undefined) this.#output.emit(output);
      return result.value;
    };
    return run();
  }

  /**
   * The events of this write that originated here go into the federation outbox in the same
   * transaction: a crash after the commit cannot lose their delivery.
   */
  async #queuedForFederation<T>(
    store: RoomStore,
    roomId: string,
    result: { value: T; outputs: Array<NewRoomEvent | undefined> },
  ): Promise<{ value: T; outputs: Array<NewRoomEvent | undefined> }> {
    if (!this.#queueFederation) return result;
    const ours = result.outputs.filter((o): o is NewRoomEvent => o !== undefined && o.origin === this.#serverName);
    if (ours.length === 0) return result;
    const queued = await store.outbox.enqueueRoomEvents(
      roomId,
      ours.map((o) => ({ eventId: o.eventId, targetServer: o.membershipChange === undefined ? undefined : serverNameOf(o.membershipChange.target) })),
      this.#serverName,
      this.#clock(),
    );
    return {
      value: result.value,
      outputs: result.outputs.map((o) => (o === undefined || o.origin !== this.#serverName ? o : { ...o, queuedFor: queued.get(o.eventId) ?? [] })),
    };
  }

  /** `members` undefined: any user's rooms may have changed. */
  #invalidateQueries(roomId: string, members: ReadonlySet<string> | undefined): void {
    this.#queries.invalidate(`room:${roomId}`);
    if (members === undefined) {
      this.#queries.invalidateAll();
      return;
    }
    for (const userId of members) this.#queries.invalidate(`user:${userId}`);
  }

  #streamTracker(): Promise<StreamPositions> {
    this.#tracker ??= this.#store.events.maxStreamOrdering().then((max) => {
      const stream = this.#cluster.stream(EVENTS_STREAM, max);
      stream.onAdvance((position) => {
        for (const listener of [...this.#positionListeners]) listener(position);
      });
      return stream;
    });
    return this.#tracker;
  }

  /** Reads the stream's start, so the cluster announces it from the first message on. */
  async ready(): Promise<void> {
    await Promise.all([this.#streamTracker(), this.#backfillPositions.ready()]);
  }

  /** How far down the backfilled history (negative positions, not on the output) may be read. */
  get backfilled(): BackfillPositions {
    return this.#backfillPositions;
  }

  /**
   * A room event another Stoa process committed (it told us over the cluster bus): what
   * this process cached about the room may be out of date, and its listeners hear of the
   * event (marked `writtenElsewhere`, so work done once per event is not done twice).
   */
  #committedElsewhere(event: NewRoomEvent): void {
    if (typeof event !== 'object' || event === null || typeof event.roomId !== 'string') return;
    this.#output.emit({ ...event, writtenElsewhere: true });
  }

  /** Called each time the readable end of the room-event stream advances (by any process). */
  onStreamAdvance(listener: (position: number) => void): () => void {
    this.#positionListeners.add(listener);
    return () => this.#positionListeners.delete(listener);
  }

  // --- queries -------------------------------------------------------------------------------

  /** The highest stream position below which every event is committed (for sync tokens). */
  async latestStreamPosition(): Promise<number> {
    // Followers started before the cluster was joined (indexers, push) wait for it.
    await this.#cluster.started;
    return (await this.#streamTracker()).safePosition();
  }

  /**
   * Drops everything this process caches about the room, after its stored events were
   * changed or removed outside the pipeline (a retention purge, an admin room purge).
   */
  forgetRoom(roomId: string): void {
    this.#forgetRoomHere(roomId);
    // The other processes sharing the database cached it too.
    this.#cluster.attach(FORGOTTEN_CHANNEL, roomId);
  }

  #forgetRoomHere(roomId: string): void {
    this.#roomEvents.forget(roomId);
    this.#invalidateQueries(roomId, undefined);
    this.#roomVersions.delete(roomId);
  }

  async roomVersion(roomId: string): Promise<string | undefined> {
    const cached = this.#roomVersions.get(roomId);
    if (cached !== undefined) return cached;
    const version = await this.#store.rooms.roomVersion(roomId);
    if (version !== undefined) {
      if (this.#roomVersions.size >= 10_000) this.#roomVersions.clear();
      this.#roomVersions.set(roomId, version);
    }
    return version;
  }

  async currentState(roomId: string): Promise<CurrentStateEntry[]> {
    return this.#store.state.currentState(roomId);
  }

  async currentStateOfType(roomId: string, type: string): Promise<CurrentStateEntry[]> {
    return this.#store.state.currentStateOfType(roomId, type);
  }

  /** The current state event of (type, stateKey), as clients see it. */
  async stateEvent(roomId: string, type: string, stateKey: string): Promise<RoomEvent | undefined> {
    // Cached as the stored row (strings only): every caller gets JSON of its own.
    const stored = await this.#queries.get(`room:${roomId}`, `state\u0000${type}\u0000${stateKey}`, async () => {
      const entry = await this.#store.state.currentStateEntry(roomId, type, stateKey);
      return entry === undefined ? undefined : this.#store.events.byId(entry.eventId);
    });
    return stored === undefined ? undefined : toRoomEvent(stored, 'client');
  }

  /** The user's current membership in the room, undefined when none. */
  async membership(roomId: string, userId: string): Promise<string | undefined> {
    return this.#queries.get(`room:${roomId}`, `membership\u0000${userId}`, async () => {
      const entry = await this.#store.state.currentStateEntry(roomId, 'm.room.member', userId);
      return entry?.membership ?? undefined;
    });
  }

  async members(roomId: string, membership: string): Promise<string[]> {
    const members = await this.#queries.get(`room:${roomId}`, `members\u0000${membership}`, () =>
      this.#store.state.membersWithMembership(roomId, membership),
    );
    return [...members];
  }

  async roomsForUser(userId: string, membership: string): Promise<string[]> {
    const rooms = await this.#queries.get(`user:${userId}`, `rooms\u0000${membership}`, () =>
      this.#store.state.roomsWithMembership(userId, membership),
    );
    return [...rooms];
  }

  async forwardExtremities(roomId: string): Promise<string[]> {
    return (await this.#store.events.forwardExtremities(roomId)).map((e) => e.eventId);
  }

  /** The room state before an event, or after it (the event included when it is accepted state). */
  async stateAt(eventId: string, at: 'before' | 'after'): Promise<StateMap | undefined> {
    // Only columns that never change after insert are read, so any cached copy will do.
    const stored = this.#roomEvents.peek(eventId)?.stored ?? (await this.#store.events.byId(eventId));
    if (stored === undefined || stored.stateBeforeSnapshotId === null) return undefined;
    // Snapshots never change either: a copy of the shared map, which callers may modify.
    let snapshot = this.#snapshots.get(stored.stateBeforeSnapshotId);
    if (snapshot === undefined) {
      const read = new Map<string, string>();
      for (const entry of await this.#store.state.readSnapshot(stored.stateBeforeSnapshotId)) {
        read.set(stateKeyOf(entry.type, entry.stateKey), entry.eventId);
      }
      this.#snapshots.set(stored.stateBeforeSnapshotId, read);
      snapshot = read;
    }
    const map = new Map(snapshot);
    if (at === 'after' && stored.stateKey !== null && stored.rejectedReason === null) {
      map.set(stateKeyOf(stored.type, stored.stateKey), stored.eventId);
    }
    return map;
  }

  /** The auth chain of `eventIds` (federation /event_auth, /state, /send_join). */
  async authChain(eventIds: readonly string[]): Promise<string[]> {
    return this.#store.events.authChain(eventIds);
  }

  /**
   * An event. `view: 'client'` (default) applies an applied redaction; `'stored'` returns
   * the JSON as stored (federation serves redacted copies itself; legal hold reads originals).
   */
  async event(eventId: string, view: 'client' | 'stored' = 'client'): Promise<RoomEvent | undefined> {
    const stored = await this.#store.events.byId(eventId);
    return stored === undefined ? undefined : toRoomEvent(stored, view);
  }

  /** Events by ID in one read, in the order asked; IDs not held are left out. */
  async events(eventIds: readonly string[], view: 'client' | 'stored' = 'client'): Promise<RoomEvent[]> {
    const byId = new Map((await this.#store.events.byIds(eventIds)).map((stored) => [stored.eventId, stored]));
    return eventIds.flatMap((id) => {
      const stored = byId.get(id);
      return stored === undefined ? [] : [toRoomEvent(stored, view)];
    });
  }

  async eventsInRange(query: EventsInRangeQuery): Promise<RoomEvent[]> {
    const rows = await this.#store.events.inRange({
      roomId: query.roomId,
      after: query.fromStream,
      upTo: query.toStream,
      limit: query.limit,
      direction: query.direction,
    });
    return rows.map((row) => toRoomEvent(row, 'client'));
  }

  /** The database handle, for callers composing read-only queries of their own. */
  get database(): StoaDatabase {
    return this.#db;
  }
}

function rulesOrThrow(version: string): RoomVersionRules {
  const rules = roomVersionRules(version);
  if (rules === undefined) throw new UnsupportedRoomVersionError(version);
  return rules;
}

function randomLocalpart(): string {
  return randomBytes(12).toString('base64url').replace(/[-_]/g, 'x');
}

function parseLocal(json: JsonObject, rules: RoomVersionRules): ParsedPdu {
  const parsed = parsePdu({ raw: json, roomVersion: rules.id });
  if (!parsed.ok) throw new InvalidEventError(parsed.error.code, parsed.error.message);
  return parsed.pdu;
}

function acceptedLocal(outcome: PipelineOutcome): { eventId: string; streamOrdering: number } {
  if (outcome.kind === 'stored' && outcome.status === 'accepted' && outcome.streamOrdering !== null) {
    return { eventId: outcome.eventId, streamOrdering: outcome.streamOrdering };
  }
  // Local events get fresh IDs and pass every check, or the pipeline throws.
  throw new Error(`local event not accepted: ${JSON.stringify(outcome)}`);
}

function outputOf(outcome: PipelineOutcome | undefined): NewRoomEvent | undefined {
  return outcome?.kind === 'stored' ? outcome.output : undefined;
}

function receiveResultOf(outcome: PipelineOutcome): ReceiveResult {
  switch (outcome.kind) {
    case 'dropped':
      return { outcome: 'dropped', check: outcome.check, reason: outcome.reason };
    case 'duplicate':
      return { outcome: 'duplicate', eventId: outcome.eventId };
    case 'stored':
      return {
        outcome: outcome.status,
        eventId: outcome.eventId,
        redactedForHash: outcome.redactedForHash,
        ...(outcome.check === undefined ? {} : { check: outcome.check }),
        ...(outcome.rule === undefined ? {} : { rule: outcome.rule }),
        ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      };
  }
}

export function toRoomEvent(stored: StoredEvent, view: 'client' | 'stored'): RoomEvent {
  const json = JSON.parse(stored.json) as JsonObject;
  const rules = roomVersionRules(stored.roomVersion);
  const shown = view === 'client' && stored.redactedBy !== null && rules !== undefined ? redactEvent(json, rules) : json;
  return {
    eventId: stored.eventId,
    roomId: stored.roomId,
    json: shown,
    streamOrdering: stored.streamOrdering,
    depth: stored.depth,
    type: stored.type,
    stateKey: stored.stateKey ?? undefined,
    sender: stored.sender,
    originServerTs: stored.originServerTs,
    roomVersion: stored.roomVersion,
    outlier: stored.outlier,
    rejectedReason: stored.rejectedReason,
    softFailed: stored.softFailed,
    redactedBy: stored.redactedBy,
  };
}
