// Typed refusals of the roomserver. The client API maps them to the spec's errors:
// EventNotAllowedError → 403 M_FORBIDDEN, RoomNotFoundError → 404 M_NOT_FOUND (or 403 where
// the endpoint hides existence), InvalidEventError → 400 M_BAD_JSON / 413 M_TOO_LARGE,
// UnsupportedRoomVersionError → 400 M_UNSUPPORTED_ROOM_VERSION.

import type { PduErrorCode } from '../rooms/pdu/parse.ts';

export class RoomserverError extends Error {
  override name = 'RoomserverError';
}

/** A local event the auth rules refuse (checks on receipt 4–6 after building). */
export class EventNotAllowedError extends RoomserverError {
  override name = 'EventNotAllowedError';
  /** The auth rule's number in the room version, e.g. "5.3.2". */
  readonly rule: string;
  readonly reason: string;
  /** Which check refused it: 4 auth events, 5 state before, 6 current state. */
  readonly check: number;

  constructor(rule: string, reason: string, check: number) {
    super(`event not allowed (rule ${rule}): ${reason}`);
    this.rule = rule;
    this.reason = reason;
    this.check = check;
  }
}

export class RoomNotFoundError extends RoomserverError {
  override name = 'RoomNotFoundError';
  readonly roomId: string;

  constructor(roomId: string) {
    super(`room ${roomId} is not known to this server`);
    this.roomId = roomId;
  }
}

/** A local event that breaks the event format (check 1), e.g. too large. */
export class InvalidEventError extends RoomserverError {
  override name = 'InvalidEventError';
  readonly code: PduErrorCode;

  constructor(code: PduErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export class UnsupportedRoomVersionError extends RoomserverError {
  override name = 'UnsupportedRoomVersionError';
  readonly roomVersion: string;

  constructor(roomVersion: string) {
    super(`room version ${JSON.stringify(roomVersion)} is not supported`);
    this.roomVersion = roomVersion;
  }
}
