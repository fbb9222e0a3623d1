// The sender's notion of waiting, injected so tests can run an hour of backoff instantly.

export interface SenderTimers {
  /** Calls `fn` once after `delayMs`; the returned function cancels it. */
  schedule(fn: () => void, delayMs: number): () => void;
}

export const realTimers: SenderTimers = {
  schedule(fn, delayMs) {
    // Capped at the largest delay setTimeout honours (~24.8 days) and unref'd: a pending
    // retry must not keep the process alive at shutdown.
    const handle = setTimeout(fn, Math.min(Math.max(0, delayMs), 2 ** 31 - 1));
    handle.unref();
    return () => clearTimeout(handle);
  },
};
