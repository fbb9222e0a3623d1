// Input serialised per room (Dendrite roomserver/internal/input): work for one room runs
// one item at a time, in arrival order, while other rooms proceed in parallel.

export class RoomQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after every task queued before it for `roomId` has settled. */
  run<T>(roomId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(roomId) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(roomId, tail);
    // Forget idle rooms, so the map holds only rooms with work in flight.
    void tail.then(() => {
      if (this.#tails.get(roomId) === tail) this.#tails.delete(roomId);
    });
    return result;
  }

  /** Rooms with queued or running work (for tests and metrics). */
  get activeRooms(): number {
    return this.#tails.size;
  }
}
