// One event the user asked for by ID (/event, /context): it must be a timeline event of the
// room (not an outlier, not rejected or soft-failed) that the user may see. Anything else is
// the same 404, so a reader learns nothing about events outside their window.

import { notFound } from '../../../http/matrix-error.ts';
import type { RoomEvent } from '../../../roomserver/index.ts';
import type { ClientReadQueries, EventVisibility, MembershipStep } from '../../../roomserver/queries-client.ts';

export async function visibleEvent(
  queries: ClientReadQueries,
  roomId: string,
  eventId: string,
  userId: string,
  history: readonly MembershipStep[],
): Promise<{ event: RoomEvent; visibility: EventVisibility }> {
  const event = await queries.roomserver.event(eventId);
  if (event !== undefined && event.roomId === roomId) {
    const visibility = (await queries.visibility(roomId, userId, [event], history)).get(eventId);
    if (visibility?.visible === true) return { event, visibility };
  }
  throw notFound('Event not found');
}
