// The roomserver's typed output (Dendrite roomserver/api/output.go): one notification per
// event that entered a room's timeline, fired after its transaction committed. Sync and the
// federation sender subscribe. Rejected, soft-failed and outlier events are not announced.

export interface MembershipChange {
  readonly target: string;
  readonly membership: string;
  /** The target's membership in the state before the event; undefined when none. */
  readonly previous: string | undefined;
}

export interface NewRoomEvent {
  readonly roomId: string;
  readonly eventId: string;
  readonly streamOrdering: number;
  readonly type: string;
  readonly stateKey: string | undefined;
  readonly sender: string;
  /** The server that sent it to us; our own server name for local events. */
  readonly origin: string;
  readonly membershipChange?: MembershipChange;
  /** Set when this event is a redaction that was applied to `redacts`. */
  readonly redacted?: string;
  /**
   * Committed by another Stoa process sharing the database (DESIGN.md "Scale"). Listeners
   * that keep caches or wake readers take it; work done once per event (queueing it for
   * federation, indexing it) is that process's.
   */
  readonly writtenElsewhere?: boolean;
  /**
   * For an event that originated here, when the roomserver queues federation: the servers
   * it was queued for, in the same transaction (the federation sender only wakes them).
   */
  readonly queuedFor?: readonly string[];
}

export type NewEventListener = (event: NewRoomEvent) => void;

export interface OutputLogger {
  error(obj: object, msg?: string): void;
}

export class RoomserverOutput {
  readonly #listeners = new Set<NewEventListener>();
  readonly #logger: OutputLogger;

  constructor(logger: OutputLogger) {
    this.#logger = logger;
  }

  /** Subscribes; returns the unsubscribe function. */
  onNewEvent(listener: NewEventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(event: NewRoomEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        // A broken subscriber must not undo a committed event nor starve the others.
        this.#logger.error({ err, eventId: event.eventId }, 'roomserver output listener failed');
      }
    }
  }
}
