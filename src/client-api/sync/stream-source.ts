// Contract between /sync (src/client-api/sync) and the services that feed its streams
// (typing, receipts, account data, presence, to-device, ...). Each stream has its own
// monotonic position; the sync token carries one position per stream.

/**
 * Who may care about an advance, so the notifier wakes only their long-polls: the users
 * listed, and every user joined to a room listed. Absent: anyone may care (all waiters wake
 * and re-check, which is correct but costs a recomputation each).
 */
export interface AdvanceScope {
  readonly users?: readonly string[];
  readonly rooms?: readonly string[];
}

export interface StreamSource {
  /** The key of this stream in the sync token (short: "t", "r", "a", "p", ...). */
  readonly streamKey: string;
  /** The highest position whose data is readable now. */
  currentPosition(): number;
  /**
   * Called (synchronously, cheaply) whenever the position advances, to wake long-polls.
   * Call it only once the data at `position` is readable.
   */
  onAdvance(listener: (position: number, scope?: AdvanceScope) => void): () => void;
}
