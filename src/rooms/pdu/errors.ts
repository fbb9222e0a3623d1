// Why a PDU failed the first check on receipt ("Is a valid event, otherwise it is dropped",
// content/server-server-api.md "Checks performed on receipt of a PDU", check 1).

export type PduErrorCode =
  /** The room version is not one Stoa implements (content/rooms). */
  | 'unsupported-version'
  /** Over 65,536 bytes as canonical JSON, or raw text too large to parse. */
  | 'too-large'
  /** The text is not JSON. */
  | 'not-json'
  /** The JSON is not an object. */
  | 'not-object'
  /**
   * v6+: a number canonical JSON forbids (a fraction, an exponent, beyond ±(2^53 - 1)).
   * v3–v5: such a number where the reference hash covers it, so no event ID exists.
   */
  | 'non-canonical'
  /** A field the room version's event format requires is absent. */
  | 'missing-field'
  /** A field has the wrong JSON type or an out-of-range value. */
  | 'bad-field'
  /** A user, room or event ID does not follow its grammar for this room version. */
  | 'bad-identifier'
  /** A field exceeds its byte limit (`type`, `state_key`, `sender`, `room_id`, `event_id`). */
  | 'too-long'
  /** More than 20 `prev_events` or 10 `auth_events`. */
  | 'too-many-edges'
  /**
   * The input made a parsing step fail in a way no other code names (for example JSON
   * nested too deeply to walk). Still a rejection, never a thrown error.
   */
  | 'unprocessable';

export interface PduError {
  readonly code: PduErrorCode;
  /** The top-level PDU field at fault, when there is one. */
  readonly field?: string;
  readonly message: string;
}

export function pduError(code: PduErrorCode, message: string, field?: string): PduError {
  return field === undefined ? { code, message } : { code, field, message };
}
