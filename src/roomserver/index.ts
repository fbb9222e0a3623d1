// The roomserver's public API: the DAG writer, its typed output, errors and injected ports.

export {
  Roomserver,
  type CreateRoomInput,
  type EventsInRangeQuery,
  type ReceiveOptions,
  type ReceiveOutcome,
  type ReceiveResult,
  type RoomEvent,
  type RoomserverOptions,
  type SendEventInput,
  type SentEvent,
  type SetMembershipInput,
  type StateEventInput,
} from './roomserver.ts';
export {
  EventNotAllowedError,
  InvalidEventError,
  RoomNotFoundError,
  RoomserverError,
  UnsupportedRoomVersionError,
} from './errors.ts';
export { RemoteJoinError, type RemoteJoinInput } from './join-remote.ts';
export type { OutOfBandMembershipInput } from './out-of-band.ts';
export type { MembershipChange, NewEventListener, NewRoomEvent } from './output.ts';
export type { FederationFetcher, RemoteKeyLookup, RoomserverLogger } from './ports.ts';
