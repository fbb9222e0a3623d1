// The push worker (client-server § "Push Notifications" › "Server behaviour"; push gateway
// API `POST /_matrix/push/v1/notify`). After each committed event it evaluates the push rules
// of every local user in the room but the sender; a notifying result is recorded for
// GET /notifications and, for each pusher of the user, queued in `push_outbox`. The outbox is
// delivered to the gateways with exponential backoff; a gateway's `rejected` pushkeys lose
// their pusher.
//
// The worker reads the event stream from its own stored position (`event_consumer_positions`),
// woken by the roomserver's output: nothing is evaluated inside the roomserver's write path,
// and after a crash it resumes where it stopped. On its very first start it begins at the
// current position rather than notifying for the whole history.

import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import type { Logger } from '../../logger.ts';
import { assertAllowedAddress, ForbiddenAddressError, guardedLookup, type PrivateAddressPolicy } from '../../net/address-guard.ts';
import { systemDns, type Dns } from '../../net/dns.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import { evaluatePushRules } from '../../rooms/push/index.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { EventConsumersRepository, type StreamEventRow } from '../../storage/event-consumers-repository.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { NotificationsRepository, type StoredNotification } from '../../storage/notifications-repository.ts';
import { PushersRepository, type NewOutboxEntry, type OutboxEntry, type StoredPusher } from '../../storage/pushers-repository.ts';
import { parseObject } from './pushers-service.ts';
import type { PushRulesService } from './push-rules-service.ts';
import { displayNameIn, pushContext, roomPushFacts, usesDisplayName } from './room-push-context.ts';

export const PUSH_CONSUMER = 'push';

export interface PusherWorkerOptions {
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly rules: PushRulesService;
  readonly serverName: string;
  readonly logger: Logger;
  readonly clock: () => number;
  /** First retry delay; doubled per failure up to `maxBackoffMs`. Default 1 s. */
  readonly baseBackoffMs?: number;
  /** Default 1 hour. */
  readonly maxBackoffMs?: number;
  /** A notification still undelivered after this many attempts is dropped. Default 12. */
  readonly maxAttempts?: number;
  /**
   * Users whose events are not evaluated for push: those an application service holds
   * exclusively (its bridge gets every event anyway), as Synapse leaves them out of its
   * bulk push-rule evaluation. Without it, the one check of large rooms' fan-out.
   */
  readonly skipUser?: (userId: string) => boolean;
  /** Per request to a gateway. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /**
   * Gateways on loopback, private and link-local addresses (config `push.allow_private_addresses`).
   * Default false: a pusher URL is any user's choice and must not reach the server's own network.
   */
  readonly allowPrivateAddresses?: PrivateAddressPolicy;
  /** Default: the system resolver. */
  readonly dns?: Dns;
}

/** A gateway's answer is a short JSON object (`rejected` pushkeys); anything longer is cut off. */
const MAX_GATEWAY_RESPONSE_BYTES = 64 * 1024;

const BATCH = 200;

/** An event some users are notified of, with each user's tweaks. */
interface EvaluatedEvent {
  readonly row: StreamEventRow;
  readonly notified: StoredNotification[];
  readonly tweaksByUser: ReadonlyMap<string, Record<string, JsonValue>>;
}

export class PusherWorker {
  readonly #o: Required<PusherWorkerOptions>;
  /** Sockets only to addresses the policy allows, checked at connect time (no DNS rebinding). */
  readonly #agent: Agent;
  readonly #consumers: EventConsumersRepository;
  readonly #notifications: NotificationsRepository;
  readonly #pushers: PushersRepository;
  #position: number | undefined;
  #unsubscribe: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PusherWorkerOptions) {
    this.#o = {
      baseBackoffMs: 1000,
      maxBackoffMs: 3_600_000,
      maxAttempts: 12,
      requestTimeoutMs: 10_000,
      allowPrivateAddresses: false,
      dns: systemDns,
      skipUser: () => false,
      ...options,
    };
    this.#agent = new Agent({
      connect: { lookup: guardedLookup(this.#o.dns, this.#o.allowPrivateAddresses), timeout: this.#o.requestTimeoutMs },
      headersTimeout: this.#o.requestTimeoutMs,
      bodyTimeout: this.#o.requestTimeoutMs,
    });
    this.#consumers = new EventConsumersRepository(options.db.kysely);
    this.#notifications = new NotificationsRepository(options.db.kysely);
    this.#pushers = new PushersRepository(options.db.kysely);
  }

  /** Subscribes to new events and processes what arrived while the server was down. */
  start(): void {
    this.#unsubscribe = this.#o.roomserver.onNewEvent(() => this.poke());
    this.poke();
  }

  /** Runs a pass now (or right after the current one). */
  poke(): void {
    if (this.#closed) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass()
      .catch((err: unknown) => this.#o.logger.error({ err }, 'push worker pass failed'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.poke();
        }
      });
  }

  /** Waits for the current pass (tests). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.idle();
    await this.#agent.close();
  }

  /** The socket's guarded lookup is skipped for IP literals, so those are checked here. */
  #checkGatewayHost(url: string): void {
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0) assertAllowedAddress(host, this.#o.allowPrivateAddresses);
  }

  async #pass(): Promise<void> {
    await this.#evaluateNewEvents();
    await this.#deliverDue();
    await this.#scheduleNext();
  }

  // --- evaluation ---------------------------------------------------------------------------

  async #evaluateNewEvents(): Promise<void> {
    const latest = await this.#o.roomserver.latestStreamPosition();
    if (this.#position === undefined) {
      this.#position = (await this.#consumers.position(PUSH_CONSUMER)) ?? latest;
      await this.#consumers.setPosition(PUSH_CONSUMER, this.#position);
    }
    while (this.#position < latest && !this.#closed) {
      const rows = await this.#consumers.eventsAfter(this.#position, latest, BATCH);
      // Evaluated one by one, written once per batch: a busy room's events cost three
      // writes per batch, not three per event.
      const batch: EvaluatedEvent[] = [];
      for (const row of rows) {
        const evaluated = await this.#evaluate(row);
        if (evaluated !== undefined) batch.push(evaluated);
      }
      await this.#store(batch);
      this.#position = rows.length < BATCH ? latest : (rows.at(-1)?.streamOrdering ?? latest);
      await this.#consumers.setPosition(PUSH_CONSUMER, this.#position);
    }
  }

  async #evaluate(row: StreamEventRow): Promise<EvaluatedEvent | undefined> {
    if (row.redacted) return undefined;
    const event = parseObject(row.json);
    const { roomserver, serverName } = this.#o;
    const local = (userId: string) => userId.endsWith(`:${serverName}`);
    const candidates = new Set((await roomserver.members(row.roomId, 'join')).filter(local));
    // An invitee is not joined yet, but `.m.rule.invite_for_me` is for them.
    const content = getField(event, 'content');
    if (row.type === 'm.room.member' && row.stateKey !== null && local(row.stateKey)
      && isJsonObject(content) && content['membership'] === 'invite') {
      candidates.add(row.stateKey);
    }
    candidates.delete(row.sender);
    for (const userId of candidates) if (this.#o.skipUser(userId)) candidates.delete(userId);
    if (candidates.size === 0) return undefined;

    const facts = await roomPushFacts(roomserver, row.roomId);
    const notified: StoredNotification[] = [];
    const tweaksByUser = new Map<string, Record<string, JsonValue>>();
    for (const userId of candidates) {
      const ruleset = await this.#o.rules.ruleset(userId);
      const displayName = usesDisplayName(ruleset) ? await displayNameIn(roomserver, row.roomId, userId) : undefined;
      const result = evaluatePushRules(ruleset, event, pushContext(facts, userId, row.sender, displayName));
      if (!result.notify) continue;
      notified.push({
        userId,
        eventId: row.eventId,
        roomId: row.roomId,
        streamOrdering: row.streamOrdering,
        actions: JSON.stringify(result.actions),
        highlight: result.highlight,
        ts: this.#o.clock(),
      });
      tweaksByUser.set(userId, { ...result.tweaks });
    }
    return notified.length === 0 ? undefined : { row, notified, tweaksByUser };
  }

  /** The notifications and outbox entries of a batch of evaluated events. */
  async #store(batch: readonly EvaluatedEvent[]): Promise<void> {
    if (batch.length === 0) return;
    await this.#notifications.insertMany(batch.flatMap((e) => e.notified));
    const users = new Set(batch.flatMap((e) => [...e.tweaksByUser.keys()]));
    const pushers = await this.#pushers.forUsers([...users]);
    const now = this.#o.clock();
    const outbox: NewOutboxEntry[] = batch.flatMap(({ row, tweaksByUser }) =>
      pushers
        .filter((p) => tweaksByUser.has(p.userId))
        .map((p) => ({
          userId: p.userId,
          appId: p.appId,
          pushkey: p.pushkey,
          roomId: row.roomId,
          eventId: row.eventId,
          tweaks: JSON.stringify(tweaksByUser.get(p.userId) ?? {}),
          nextAttemptTs: now,
          createdTs: now,
        })),
    );
    if (outbox.length > 0) await this.#pushers.enqueue(outbox);
  }

  // --- delivery -------------------------------------------------------------------------------

  async #deliverDue(): Promise<void> {
    for (;;) {
      if (this.#closed) return;
      const due = await this.#pushers.due(this.#o.clock(), 50);
      if (due.length === 0) return;
      await Promise.all(due.map((entry) => this.#deliver(entry)));
      if (due.length < 50) return;
    }
  }

  async #deliver(entry: OutboxEntry): Promise<void> {
    const pusher = await this.#pushers.find(entry.userId, entry.appId, entry.pushkey);
    if (pusher === undefined) {
      await this.#pushers.remove(entry.id);
      return;
    }
    const log = this.#o.logger;
    let outcome: 'delivered' | 'retry' | 'drop';
    try {
      const body = await this.#notifyBody(pusher, entry);
      const url = parseObject(pusher.data)['url'];
      if (typeof url !== 'string') {
        outcome = 'drop';
      } else {
        this.#checkGatewayHost(url);
        // No redirects are followed (undici's default), so the checked address is the one used.
        const response = await request(url, {
          method: 'POST',
          dispatcher: this.#agent,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.#o.requestTimeoutMs),
        });
        const text = await readCapped(response.body, MAX_GATEWAY_RESPONSE_BYTES);
        if (response.statusCode >= 200 && response.statusCode < 300) {
          outcome = 'delivered';
          if (rejectedPushkeys(text).includes(pusher.pushkey)) {
            log.info({ userId: pusher.userId, appId: pusher.appId }, 'push gateway rejected the pushkey; pusher removed');
            await this.#pushers.delete(pusher.userId, pusher.appId, pusher.pushkey);
          }
        } else {
          // A client error other than rate limiting will not improve with retries.
          outcome = response.statusCode >= 400 && response.statusCode < 500 && response.statusCode !== 429 ? 'drop' : 'retry';
          log.warn({ status: response.statusCode, appId: pusher.appId }, 'push gateway refused a notification');
        }
      }
    } catch (err) {
      if (isForbiddenAddress(err)) {
        // Retrying will not move the gateway; the notification is dropped, the pusher kept
        // (an operator may yet allow the address).
        log.warn({ appId: pusher.appId, err: (err as Error).message }, 'push gateway address is not allowed');
        outcome = 'drop';
      } else {
        log.warn({ err, appId: pusher.appId }, 'push gateway unreachable');
        outcome = 'retry';
      }
    }
    const attempts = entry.attempts + 1;
    if (outcome === 'retry' && attempts < this.#o.maxAttempts) {
      const delay = Math.min(this.#o.baseBackoffMs * 2 ** entry.attempts, this.#o.maxBackoffMs);
      await this.#pushers.reschedule(entry.id, attempts, this.#o.clock() + delay);
    } else {
      await this.#pushers.remove(entry.id);
    }
  }

  async #scheduleNext(): Promise<void> {
    if (this.#closed) return;
    const next = await this.#pushers.nextDue();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (next === undefined) return;
    const delay = Math.max(0, Math.min(next - this.#o.clock(), 2 ** 31 - 1));
    this.#timer = setTimeout(() => this.poke(), delay);
    this.#timer.unref();
  }

  /** push_notifier.yaml `notify` request body. */
  async #notifyBody(pusher: StoredPusher, entry: OutboxEntry): Promise<JsonObject> {
    const { url: _url, ...data } = parseObject(pusher.data);
    const tweaks = parseObject(entry.tweaks);
    const device: JsonObject = {
      app_id: pusher.appId,
      pushkey: pusher.pushkey,
      pushkey_ts: Math.floor(pusher.pushkeyTs / 1000),
      data,
      tweaks,
    };
    const unread = await this.#notifications.unreadCount(pusher.userId);
    const counts: JsonObject = unread > 0 ? { unread } : {};
    const notification: JsonObject = { event_id: entry.eventId, room_id: entry.roomId, counts, devices: [device] };
    if (data['format'] === 'event_id_only') return { notification };

    const { roomserver } = this.#o;
    const event = await roomserver.event(entry.eventId, 'client');
    if (event !== undefined) {
      notification['type'] = event.type;
      notification['sender'] = event.sender;
      const content = getField(event.json, 'content');
      if (isJsonObject(content)) notification['content'] = content;
      if (event.type === 'm.room.member') notification['user_is_target'] = event.stateKey === pusher.userId;
      const senderName = await displayNameIn(roomserver, entry.roomId, event.sender);
      if (senderName !== undefined) notification['sender_display_name'] = senderName;
      notification['prio'] = event.type === 'm.room.encrypted' || tweaks['highlight'] === true || typeof tweaks['sound'] === 'string'
        ? 'high'
        : 'low';
    }
    const name = stringField(await roomserver.stateEvent(entry.roomId, 'm.room.name', ''), 'name');
    if (name !== undefined) notification['room_name'] = name;
    const alias = stringField(await roomserver.stateEvent(entry.roomId, 'm.room.canonical_alias', ''), 'alias');
    if (alias !== undefined) notification['room_alias'] = alias;
    return { notification };
  }
}

function stringField(event: { json: JsonObject } | undefined, key: string): string | undefined {
  const content = event === undefined ? undefined : getField(event.json, 'content');
  const value = isJsonObject(content) ? content[key] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function rejectedPushkeys(text: string): string[] {
  const body = parseObject(text);
  const rejected = body['rejected'];
  return Array.isArray(rejected) ? rejected.filter((k): k is string => typeof k === 'string') : [];
}

/** Reads a response body as text, at most `limit` bytes (the rest is discarded). */
async function readCapped(body: AsyncIterable<unknown> & { destroy(): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    const room = limit - size;
    chunks.push(buffer.length > room ? buffer.subarray(0, room) : buffer);
    size += Math.min(buffer.length, room);
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function isForbiddenAddress(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    if (cause instanceof ForbiddenAddressError) return true;
    if (cause instanceof AggregateError && cause.errors.some(isForbiddenAddress)) return true;
  }
  return false;
}
