// The readable end of one stream (room events, receipts, to-device, ...) when several Stoa
// processes write it (DESIGN.md "Scale"). Positions come from one PostgreSQL sequence, and
// transactions commit in any order: process A may commit 11 while B still holds 10. A
// reader that moved to 11 would never see 10. So every writer promises, and announces over
// LISTEN/NOTIFY, a position below which it will commit nothing more ("its safe position"),
// and readers read up to the lowest promise of all writers.
//
// A writer's promise: with nothing in flight, the highest position it has seen committed
// anywhere, since the sequence has already passed it, so its next position is higher. With
// writes in flight, one below the lowest of them. While a position is being allocated (the
// nextval is on its way) it cannot be known yet; it will be above the highest position seen
// when the allocation started, so that is the promise until it returns. Single process: no
// peers, and the safe position is the old in-process rule.

interface PeerPosition {
  readonly position: number;
}

export type PositionListener = (position: number) => void;

export class StreamPositions {
  readonly key: string;
  readonly #inFlight = new Set<number>();
  /** Allocations under way → the highest position seen when each started. */
  readonly #allocating = new Map<number, number>();
  #nextTicket = 0;
  /** The highest position known committed (ours) or promised (peers'). */
  #seen: number;
  readonly #peers = new Map<string, PeerPosition>();
  readonly #listeners = new Set<PositionListener>();
  /** The highest safe position handed to a reader or a listener. */
  #lastSafe: number;
  /** The highest safe position the listeners heard of. */
  #lastEmitted = Number.NEGATIVE_INFINITY;
  #held = false;
  readonly #onOwnChange: () => void;

  /** `onOwnChange`: this writer's promise may have moved (the cluster announces it). */
  constructor(key: string, initial: number, onOwnChange: () => void = () => {}) {
    this.key = key;
    this.#seen = initial;
    // Not `initial`: a writer that starts while others have writes in flight below the
    // highest committed position learns their promises before anyone reads through it.
    this.#lastSafe = Number.NEGATIVE_INFINITY;
    this.#onOwnChange = onOwnChange;
  }

  /**
   * Runs an allocation (`fn` returns the position it got, or null for none) and keeps the
   * position in flight until committed() or abandoned().
   */
  async allocating<T extends number | null>(fn: () => Promise<T>): Promise<T> {
    const ticket = this.#nextTicket++;
    this.#allocating.set(ticket, this.#seen);
    let position: T;
    try {
      position = await fn();
    } catch (error) {
      this.#allocating.delete(ticket);
      this.#changed();
      throw error;
    }
    if (position !== null) this.#inFlight.add(position);
    this.#allocating.delete(ticket);
    // The hold is lifted: a position committed meanwhile may be readable now.
    this.#changed();
    return position;
  }

  /**
   * A whole write whose transaction allocates its position and commits before `write`
   * returns (the serial streams: receipts, account data, to-device, ...).
   */
  async write<T>(write: () => Promise<{ readonly position: number | undefined; readonly result: T }>): Promise<T> {
    let outcome: { readonly position: number | undefined; readonly result: T } | undefined;
    await this.allocating(async () => {
      outcome = await write();
      return outcome.position ?? null;
    });
    if (outcome === undefined) throw new Error('unreachable: write returned nothing');
    if (outcome.position !== undefined) this.committed(outcome.position);
    else this.#changed();
    return outcome.result;
  }

  committed(position: number): void {
    this.#inFlight.delete(position);
    if (position > this.#seen) this.#seen = position;
    this.#changed();
  }

  abandoned(position: number): void {
    this.#inFlight.delete(position);
    this.#changed();
  }

  /** This writer's promise (see the header). */
  ownSafe(): number {
    let safe = this.#seen;
    for (const position of this.#inFlight) safe = Math.min(safe, position - 1);
    for (const floor of this.#allocating.values()) safe = Math.min(safe, floor);
    return safe;
  }

  /**
   * The position readers may read up to: the lowest promise of every known writer. Never
   * lower than before: a writer that joins later promises less than it could (the highest
   * position committed when it started), yet every position it allocates is above that.
   */
  safePosition(): number {
    if (this.#held && this.#lastSafe !== Number.NEGATIVE_INFINITY) return this.#lastSafe;
    this.#lastSafe = Math.max(this.#lowestPromise(), this.#lastSafe);
    return this.#lastSafe;
  }

  /** A peer's announced promise. Returns whether our own promise moved because of it. */
  peerAnnounced(writer: string, position: number): boolean {
    const before = this.ownSafe();
    const previous = this.#peers.get(writer);
    // Announcements arrive in order; a lower one after a higher is a peer that restarted.
    this.#peers.set(writer, { position });
    if (position > this.#seen) this.#seen = position;
    const moved = this.ownSafe() !== before;
    if (previous?.position !== position || moved) this.#emitIfAdvanced();
    return moved;
  }

  forgetPeer(writer: string): void {
    if (this.#peers.delete(writer)) this.#emitIfAdvanced();
  }

  /** Keeps the safe position where it is until release(): what peers said may have been lost. */
  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
    this.#emitIfAdvanced();
  }

  get peerCount(): number {
    return this.#peers.size;
  }

  /** Called with the new safe position each time it advances. */
  onAdvance(listener: PositionListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    this.#onOwnChange();
    this.#emitIfAdvanced();
  }

  #lowestPromise(): number {
    let safe = this.ownSafe();
    for (const peer of this.#peers.values()) safe = Math.min(safe, peer.position);
    return safe;
  }

  #emitIfAdvanced(): void {
    if (this.#held) return;
    const safe = Math.max(this.#lowestPromise(), this.#lastSafe);
    if (safe <= this.#lastEmitted) return;
    this.#lastEmitted = safe;
    this.#lastSafe = safe;
    for (const listener of [...this.#listeners]) listener(safe);
  }
}
