// The roomserver's refusals as Matrix errors, for admin operations that send events
// (kicks, power levels, server notices, webhook posts). admin may not import the client
// API's mapping, so this is the admin side's own, smaller one.

import { badJson, forbidden, notFound, tooLarge } from '../../http/matrix-error.ts';
import { EventNotAllowedError, InvalidEventError, RoomNotFoundError } from '../../roomserver/index.ts';

export async function withRoomErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof EventNotAllowedError) throw forbidden(`The event is not allowed: ${error.reason}`);
    if (error instanceof RoomNotFoundError) throw notFound('Unknown room');
    if (error instanceof InvalidEventError) throw error.code === 'too-large' ? tooLarge(`Event too large: ${error.message}`) : badJson(`Invalid event: ${error.message}`);
    throw error;
  }
}
