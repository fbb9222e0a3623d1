// Several Stoa processes on one PostgreSQL (DESIGN.md "Scale"): what they tell each other,
// over one LISTEN/NOTIFY channel, so each process's /sync waiters wake for writes made by
// the others and reads never skip a position another process still has in flight.
//
// Every process ("writer") announces its promise for each stream (stream-positions.ts),
// together with what it committed since its last announcement (attachments: the room
// events it wrote, the scopes of stream advances, typing changes). NOTIFY delivers
// messages to every listener in one order, so a process that announced itself ("hello")
// before its first write is known to every reader before any position above its own.
// A process that starts waits, after its hello came back, one heartbeat for the others to
// answer; a process silent for several heartbeats is taken for dead (its transactions died
// with its connections) and forgotten. Without a bus (PGlite, one process) none of this runs.

import { randomBytes } from 'node:crypto';
import { StreamPositions } from './stream-positions.ts';

export interface ClusterBus {
  /** Starts receiving every payload published by anyone, this process included, in one order. */
  listen(handler: (payload: string) => void, onReconnect: () => void): Promise<void>;
  publish(payload: string): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ClusterOptions {
  readonly bus?: ClusterBus;
  readonly logger: ClusterLogger;
  /** What this process does (logged by the others). */
  readonly role?: string;
  readonly heartbeatMs?: number;
  /** Silence after which a peer is taken for dead. Default 5 heartbeats. */
  readonly peerTimeoutMs?: number;
  readonly clock?: () => number;
}

type Attachment = unknown;
type AttachmentHandler = (item: Attachment, writer: string) => void;

interface Message {
  readonly w: string;
  readonly k: 'hello' | 'pos' | 'bye';
  readonly role?: string;
  /** Promises by stream key; absent in a message that carries only attachments. */
  readonly s?: Record<string, number>;
  /** Attachments by channel. */
  readonly a?: Record<string, Attachment[]>;
}

/** NOTIFY payloads must stay under 8000 bytes. */
const MAX_PAYLOAD = 7000;

export class Cluster {
  readonly writerId = randomBytes(6).toString('hex');
  readonly #bus: ClusterBus | undefined;
  readonly #logger: ClusterLogger;
  readonly #role: string;
  readonly #heartbeatMs: number;
  readonly #peerTimeoutMs: number;
  readonly #clock: () => number;
  readonly #streams = new Map<string, StreamPositions>();
  readonly #handlers = new Map<string, Set<AttachmentHandler>>();
  readonly #peers = new Map<string, { role: string; heardAt: number }>();
  #outbox = new Map<string, Attachment[]>();
  #scheduled = false;
  #publishing: Promise<void> = Promise.resolve();
  #heartbeat: NodeJS.Timeout | undefined;
  #helloSeen: (() => void) | undefined;
  #closed = false;
  /** Until then (after a lost listen connection) no safe position moves. */
  #holdUntil = 0;
  #markStarted: () => void = () => undefined;
  /**
   * Resolves once this process knows the others (at once without a bus). Before that no
   * position may be read: another process may hold one in flight below it.
   */
  readonly started: Promise<void>;

  constructor(options: ClusterOptions) {
    this.#bus = options.bus;
    this.#logger = options.logger;
    this.#role = options.role ?? 'all';
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#peerTimeoutMs = options.peerTimeoutMs ?? this.#heartbeatMs * 5;
    this.#clock = options.clock ?? Date.now;
    this.started = new Promise((resolve) => (this.#markStarted = resolve));
    if (this.#bus === undefined) this.#markStarted();
  }

  /** Whether other processes may share the database (a bus is configured). */
  get shared(): boolean {
    return this.#bus !== undefined;
  }

  /** The processes heard from, by writer ID → role. */
  get peers(): ReadonlyMap<string, string> {
    return new Map([...this.#peers].map(([writer, peer]) => [writer, peer.role]));
  }

  /** The tracker of stream `key`, created at `initial` (its highest committed position) on first use. */
  stream(key: string, initial: number): StreamPositions {
    let stream = this.#streams.get(key);
    if (stream === undefined) {
      stream = new StreamPositions(key, initial, () => this.#schedule());
      this.#streams.set(key, stream);
    }
    return stream;
  }

  /** Sends `item` to the other processes with the next announcement (after what is committed now). */
  attach(channel: string, item: Attachment): void {
    if (this.#bus === undefined || this.#closed) return;
    let items = this.#outbox.get(channel);
    if (items === undefined) this.#outbox.set(channel, (items = []));
    items.push(item);
    this.#schedule();
  }

  /** Receives the other processes' attachments on `channel`, before the promises sent with them. */
  onAttachment(channel: string, handler: AttachmentHandler): () => void {
    let set = this.#handlers.get(channel);
    if (set === undefined) this.#handlers.set(channel, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** Joins the cluster: resolves once the other processes know this one and it knows them. */
  async start(): Promise<void> {
    const bus = this.#bus;
    if (bus === undefined) return;
    const helloSeen = new Promise<void>((resolve) => (this.#helloSeen = resolve));
    await bus.listen(
      (payload) => this.#receive(payload),
      () => this.#reconnected(),
    );
    this.#send({ w: this.writerId, k: 'hello', role: this.#role, s: this.#promises() });
    await helloSeen;
    // Everyone alive answers a hello at once and heartbeats anyway: after one interval this
    // process knows every writer that could hold a position in flight.
    await new Promise((resolve) => setTimeout(resolve, this.#heartbeatMs));
    this.#heartbeat = setInterval(() => this.#beat(), this.#heartbeatMs);
    this.#heartbeat.unref();
    this.#logger.info({ writer: this.writerId, role: this.#role, peers: Object.fromEntries(this.peers) }, 'joined the cluster');
    this.#markStarted();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    const bus = this.#bus;
    if (bus === undefined) return;
    this.#send({ w: this.writerId, k: 'bye' });
    await this.#publishing;
    await bus.close();
  }

  #promises(): Record<string, number> {
    const promises: Record<string, number> = {};
    for (const [key, stream] of this.#streams) promises[key] = stream.ownSafe();
    return promises;
  }

  #schedule(): void {
    if (this.#bus === undefined || this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    // Writes committing in the same turn share one announcement.
    setImmediate(() => {
      this.#scheduled = false;
      this.#announce();
    });
  }

  #announce(): void {
    const outbox = this.#outbox;
    this.#outbox = new Map();
    // Alone, nobody listens (a newcomer's hello is answered when it arrives, and it reads
    // nothing before that).
    if (this.#peers.size === 0) return;
    // Attachments first, in pieces that fit, then the promises: a peer applies what was
    // committed before it moves its reads past it.
    let piece: Record<string, Attachment[]> = {};
    let size = 0;
    for (const [channel, items] of outbox) {
      for (const item of items) {
        const text = JSON.stringify(item);
        if (text.length + 64 > MAX_PAYLOAD) {
          this.#logger.warn({ channel, bytes: text.length }, 'cluster attachment too large to send; dropped');
          continue;
        }
        if (size + text.length + channel.length + 8 > MAX_PAYLOAD) {
          this.#send({ w: this.writerId, k: 'pos', a: piece });
          piece = {};
          size = 0;
        }
        (piece[channel] ??= []).push(item);
        size += text.length + channel.length + 8;
      }
    }
    this.#send({ w: this.writerId, k: 'pos', role: this.#role, s: this.#promises(), ...(size > 0 ? { a: piece } : {}) });
  }

  #send(message: Message): void {
    const bus = this.#bus;
    if (bus === undefined) return;
    const payload = JSON.stringify(message);
    this.#publishing = this.#publishing
      .then(() => bus.publish(payload))
      .catch((err: unknown) => {
        // The next heartbeat carries the promises again; lost attachments only delay wakeups
        // on the others (their reads still see the database).
        this.#logger.warn({ err }, 'could not publish to the cluster');
      });
  }

  #receive(payload: string): void {
    let message: Message;
    try {
      message = JSON.parse(payload) as Message;
    } catch {
      return;
    }
    if (typeof message.w !== 'string') return;
    if (message.w === this.writerId) {
      if (message.k === 'hello') this.#helloSeen?.();
      return;
    }
    if (message.k === 'bye') {
      this.#forget(message.w, 'left');
      return;
    }
    const now = this.#clock();
    const known = this.#peers.get(message.w);
    if (known === undefined) this.#logger.info({ writer: message.w, role: message.role }, 'a process joined the cluster');
    this.#peers.set(message.w, { role: message.role ?? known?.role ?? 'unknown', heardAt: now });
    for (const [channel, items] of Object.entries(message.a ?? {})) {
      for (const handler of this.#handlers.get(channel) ?? []) {
        for (const item of items) {
          try {
            handler(item, message.w);
          } catch (err) {
            this.#logger.error({ err, channel }, 'cluster attachment handler failed');
          }
        }
      }
    }
    let moved = message.k === 'hello';
    for (const [key, position] of Object.entries(message.s ?? {})) {
      if (typeof position !== 'number') continue;
      const stream = this.#streams.get(key);
      if (stream !== undefined && stream.peerAnnounced(message.w, position)) moved = true;
    }
    // Answer a newcomer, and tell the others when their promises moved ours (an idle writer
    // follows the highest position it has seen, or readers would wait on it forever).
    if (moved) this.#schedule();
  }

  #beat(): void {
    const cutoff = this.#clock() - this.#peerTimeoutMs;
    for (const [writer, peer] of [...this.#peers]) if (peer.heardAt < cutoff) this.#forget(writer, 'silent');
    if (this.#holdUntil !== 0 && this.#clock() >= this.#holdUntil) {
      this.#holdUntil = 0;
      for (const stream of this.#streams.values()) stream.release();
    }
    this.#send({ w: this.writerId, k: 'pos', role: this.#role, s: this.#promises() });
  }

  #forget(writer: string, why: string): void {
    if (!this.#peers.delete(writer)) return;
    for (const stream of this.#streams.values()) stream.forgetPeer(writer);
    this.#logger.warn({ writer, why }, 'a process left the cluster');
  }

  /**
   * The listen connection was lost and is back: what was said meanwhile is lost, a process
   * that started meanwhile among it. Reads stay where they are until every live process has
   * heartbeaten again.
   */
  #reconnected(): void {
    this.#holdUntil = this.#clock() + this.#heartbeatMs * 2;
    for (const stream of this.#streams.values()) stream.hold();
    this.#send({ w: this.writerId, k: 'hello', role: this.#role, s: this.#promises() });
  }
}
