// The position readers may safely read the room-event stream up to. Stream orderings come
// from a sequence inside write transactions, and transactions of different rooms commit
// in any order: position 11 may be visible before 10 is. A reader that saw 11 and moved on
// would never see 10, so readers are told the highest position below which nothing is
// still in flight in this process. (Several processes need the same across processes:
// DESIGN.md "Scale", by LISTEN/NOTIFY; not done here.)

export class StreamTracker {
  readonly #inFlight = new Set<number>();
  #maxCommitted: number;

  constructor(initial: number) {
    this.#maxCommitted = initial;
  }

  begin(position: number): void {
    this.#inFlight.add(position);
  }

  committed(position: number): void {
    this.#inFlight.delete(position);
    if (position > this.#maxCommitted) this.#maxCommitted = position;
  }

  abandoned(position: number): void {
    this.#inFlight.delete(position);
  }

  safePosition(): number {
    let lowest = Infinity;
    for (const position of this.#inFlight) lowest = Math.min(lowest, position);
    return lowest === Infinity ? this.#maxCommitted : Math.min(this.#maxCommitted, lowest - 1);
  }
}
