// The roomserver's typed refusals as the spec's errors, for every client-API area that
// writes to or reads rooms. Anything that is not a roomserver refusal passes through
// unchanged, so a bug still reaches the error middleware as a 500 with its stack logged.

import { MatrixError, badJson, forbidden, notFound, tooLarge, unsupportedRoomVersion } from '../../http/matrix-error.ts';
import { CanonicalJsonError } from '../../rooms/canonical-json.ts';
import {
  EventNotAllowedError,
  InvalidEventError,
  RoomNotFoundError,
  UnsupportedRoomVersionError,
} from '../../roomserver/index.ts';

/** The MatrixError for a roomserver refusal; any other value is returned as it is. */
export function toMatrixError(error: unknown): unknown {
  if (error instanceof EventNotAllowedError) {
    return forbidden(`You are not allowed to send this event: ${error.reason}`);
  }
  if (error instanceof RoomNotFoundError) return notFound('Unknown room');
  if (error instanceof UnsupportedRoomVersionError) return unsupportedRoomVersion(error.roomVersion);
  if (error instanceof InvalidEventError) {
    // "Size limits": the whole event may not exceed 65,536 bytes.
    return error.code === 'too-large' ? tooLarge(`Event too large: ${error.message}`) : badJson(`Invalid event: ${error.message}`);
  }
  // Content that canonical JSON cannot encode (a float, an integer beyond ±(2^53 − 1)):
  // the event could be neither signed nor hashed.
  if (error instanceof CanonicalJsonError) return badJson(`Invalid event content: ${error.message}`);
  return error;
}

/** Runs `work`, rethrowing roomserver refusals as MatrixErrors. */
export async function withRoomErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toMatrixError(error);
  }
}

/** createRoom § 400: "the initial state implied by the parameters to the request is invalid". */
export function invalidRoomState(message: string): MatrixError {
  return new MatrixError(400, 'M_INVALID_ROOM_STATE', message);
}

/** setRoomStateWithKey § 400: an alias in `m.room.canonical_alias` does not point to the room. */
export function badAlias(message: string): MatrixError {
  return new MatrixError(400, 'M_BAD_ALIAS', message);
}
