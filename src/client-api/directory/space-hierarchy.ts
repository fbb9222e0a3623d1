// GET /_matrix/client/v1/rooms/{roomId}/hierarchy (client-server § "Spaces",
// space_hierarchy.yaml): a depth-first walk of m.space.child events from the requested
// room, rooms this server is in read from their current state, the others asked of the
// servers in the child's `via` over federation. Rooms the user may not preview are left
// out, and a room is visited once, so loops end.
//
// Pagination keeps the walk's remaining stack in memory under a random token (as Synapse
// does); a token is tied to the user, room and the first request's `suggested_only` and
// `max_depth`, and expires after a few minutes.

import { randomBytes } from 'node:crypto';
import { forbidden, invalidParam } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { RoomDirectoryQueries } from '../../roomserver/directory/room-directory.ts';
import { roomSummaryJson } from '../../roomserver/directory/summary.ts';
import type { RemoteRoom, RemoteRoomDirectory } from './ports.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;
export const MAX_DEPTH = 20;
const SESSION_TTL_MS = 5 * 60_000;
const MAX_SESSIONS = 1_000;
/** A space may list many children; only this many are walked per space, as Synapse caps it. */
const MAX_CHILDREN_PER_SPACE = 50;

export interface HierarchyRequest {
  readonly userId: string;
  readonly roomId: string;
  readonly suggestedOnly: boolean;
  /** As the client sent them: a `from` must repeat the first request's values. */
  readonly maxDepth: number | undefined;
  readonly limit: number | undefined;
  readonly from: string | undefined;
}

interface QueueEntry {
  readonly roomId: string;
  readonly via: readonly string[];
  readonly depth: number;
}

interface Session {
  readonly userId: string;
  readonly roomId: string;
  readonly suggestedOnly: boolean;
  readonly maxDepth: number | undefined;
  readonly queue: QueueEntry[];
  readonly processed: Set<string>;
  /** Rooms a remote server already described while answering for their parent. */
  readonly known: Map<string, RemoteRoom | 'inaccessible'>;
  expiresAt: number;
}

export interface SpaceHierarchyOptions {
  readonly rooms: RoomDirectoryQueries;
  readonly remote: RemoteRoomDirectory | undefined;
  readonly clock: () => number;
}

export class SpaceHierarchy {
  readonly #rooms: RoomDirectoryQueries;
  readonly #remote: RemoteRoomDirectory | undefined;
  readonly #clock: () => number;
  readonly #sessions = new Map<string, Session>();

  constructor(options: SpaceHierarchyOptions) {
    this.#rooms = options.rooms;
    this.#remote = options.remote;
    this.#clock = options.clock;
  }

  async page(request: HierarchyRequest): Promise<JsonObject> {
    const session = request.from === undefined ? await this.#start(request) : this.#resume(request, request.from);
    const limit = Math.min(request.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const maxDepth = Math.min(session.maxDepth ?? MAX_DEPTH, MAX_DEPTH);
    const rooms: JsonObject[] = [];
    while (session.queue.length > 0 && rooms.length < limit) {
      const entry = session.queue.pop()!;
      if (session.processed.has(entry.roomId)) continue;
      session.processed.add(entry.roomId);
      const room = await this.#describe(session, entry);
      if (room === undefined || !(await this.#rooms.userMayPreview(room.summary, session.userId))) continue;
      const children = room.children ?? [];
      rooms.push({ ...roomSummaryJson(room.summary), children_state: children.map((child) => child.stripped) });
      if (entry.depth >= maxDepth) continue;
      const walked = (session.suggestedOnly ? children.filter((child) => child.suggested) : children).slice(0, MAX_CHILDREN_PER_SPACE);
      for (const child of [...walked].reverse()) {
        if (!session.processed.has(child.roomId)) session.queue.push({ roomId: child.roomId, via: child.via, depth: entry.depth + 1 });
      }
    }
    const response: JsonObject = { rooms };
    if (session.queue.some((entry) => !session.processed.has(entry.roomId))) response['next_batch'] = this.#save(session);
    return response;
  }

  /**
   * The requested room must be one the user may preview (403 otherwise, unknown rooms too).
   * A room this server is not in is walked from the servers of the user's pending invite.
   */
  async #start(request: HierarchyRequest): Promise<Session> {
    let via: string[] = [];
    if (await this.#rooms.isResident(request.roomId)) {
      const root = await this.#rooms.summary(request.roomId);
      if (root === undefined || !(await this.#rooms.userMayPreview(root, request.userId))) throw notVisible();
    } else {
      via = this.#remote === undefined ? [] : await this.#rooms.serversForPendingMembership(request.roomId, request.userId);
      if (via.length === 0) throw notVisible();
    }
    return {
      userId: request.userId,
      roomId: request.roomId,
      suggestedOnly: request.suggestedOnly,
      maxDepth: request.maxDepth,
      queue: [{ roomId: request.roomId, via, depth: 0 }],
      processed: new Set(),
      known: new Map(),
      expiresAt: 0,
    };
  }

  #resume(request: HierarchyRequest, token: string): Session {
    const session = this.#sessions.get(token);
    if (session === undefined || session.expiresAt <= this.#clock() || session.userId !== request.userId || session.roomId !== request.roomId) {
      throw invalidParam('Unknown pagination token');
    }
    if (session.suggestedOnly !== request.suggestedOnly || session.maxDepth !== request.maxDepth) {
      throw invalidParam('suggested_only and max_depth cannot change on paginated requests');
    }
    this.#sessions.delete(token);
    return { ...session, queue: [...session.queue], processed: new Set(session.processed), known: new Map(session.known) };
  }

  #save(session: Session): string {
    const now = this.#clock();
    for (const [token, stored] of this.#sessions) if (stored.expiresAt <= now) this.#sessions.delete(token);
    while (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    const token = randomBytes(16).toString('base64url');
    session.expiresAt = now + SESSION_TTL_MS;
    this.#sessions.set(token, session);
    return token;
  }

  /** The room's summary and children: from its state here, else from its parent's remote answer, else over federation. */
  async #describe(session: Session, entry: QueueEntry): Promise<RemoteRoom | undefined> {
    if (await this.#rooms.isResident(entry.roomId)) {
      const summary = await this.#rooms.summary(entry.roomId);
      return summary === undefined ? undefined : { summary, children: await this.#rooms.children(entry.roomId) };
    }
    const known = session.known.get(entry.roomId);
    if (known === 'inaccessible') return undefined;
    // A child described without its own children is asked again when it is a space.
    if (known !== undefined && (known.children !== undefined || known.summary.roomType !== 'm.space')) return known;
    if (this.#remote === undefined) return undefined;
    const via = entry.via.filter((server) => server !== this.#rooms.serverName);
    if (via.length === 0) return undefined;
    const answer = await this.#remote.hierarchy(entry.roomId, via, session.suggestedOnly);
    if (answer === undefined || answer.room.summary.roomId !== entry.roomId) return undefined;
    for (const child of answer.children) {
      if (!session.known.has(child.summary.roomId)) session.known.set(child.summary.roomId, child);
    }
    for (const roomId of answer.inaccessibleChildren) session.known.set(roomId, 'inaccessible');
    return answer.room;
  }
}

function notVisible() {
  return forbidden('You may not view this room, or it is unknown to this server');
}
