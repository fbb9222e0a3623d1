// Timers behind an interface, so expiry logic can be tested with a hand-moved clock.

/** Runs `task` after `delayMs`; the returned function cancels it. */
export type Scheduler = (task: () => void, delayMs: number) => () => void;

/** Real timers; unref'd so a pending expiry never keeps the process alive. */
export const realScheduler: Scheduler = (task, delayMs) => {
  const handle = setTimeout(task, Math.max(0, delayMs));
  handle.unref();
  return () => clearTimeout(handle);
};
