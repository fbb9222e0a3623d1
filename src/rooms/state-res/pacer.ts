// Counts steps of a long loop and hands the event loop a turn every N of them, through
// a function the caller injects (`rooms` has no timers of its own).

export class Pacer {
  readonly #yieldToEventLoop: (() => Promise<void>) | undefined;
  readonly #every: number;
  #steps = 0;

  constructor(yieldToEventLoop: (() => Promise<void>) | undefined, every = 500) {
    this.#yieldToEventLoop = yieldToEventLoop;
    this.#every = Number.isInteger(every) && every > 0 ? every : 500;
  }

  /**
   * Counts one step. Returns a promise to await when it is time to yield, else
   * `undefined`, so hot loops pay for an `await` only every N steps:
   * `const turn = pacer.step(); if (turn) await turn;`
   */
  step(): Promise<void> | undefined {
    if (this.#yieldToEventLoop === undefined) return undefined;
    this.#steps += 1;
    if (this.#steps < this.#every) return undefined;
    this.#steps = 0;
    return this.#yieldToEventLoop();
  }
}
