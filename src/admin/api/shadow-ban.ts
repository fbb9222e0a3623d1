// Shadow-banning (Synapse's user_admin_api.md § "Controlling whether a user is shadow-banned"):
//   POST   /_synapse/admin/v1/users/{userId}/shadow_ban   ban
//   DELETE /_synapse/admin/v1/users/{userId}/shadow_ban   lift
//
// A shadow-banned user's messages, state changes, redactions, invites and typing notices
// are dropped while the client is told they succeeded (a made-up event ID), so a spammer
// does not learn to make a new account. Joining and leaving still work. As with room
// blocks, the client API's endpoints are wrapped rather than each taught about bans; the
// set of banned users lives in memory (loaded at start) because it is consulted on every
// send; other processes sharing the database re-read it when told over the cluster bus,
// and every minute in any case.

import { randomBytes } from 'node:crypto';
import type { Endpoint, EndpointRequest, EndpointResult, Requester } from '../../http/define-endpoint.ts';
import { notFound } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import type { AdminRepository } from '../../storage/admin-repository.ts';
import type { Cluster } from '../../storage/cluster/cluster.ts';
import type { AdminAccess } from './access.ts';
import { localUserParam } from './params.ts';

const REFRESH_MS = 60_000;
/** The cluster channel on which a process says it changed the bans. */
const CHANGED_CHANNEL = 'shadow-bans';
const V3 = '/_matrix/client/v3/rooms/:roomId';

/** What a shadow-banned user's call answers instead of doing anything. */
type FakeAnswer = (request: EndpointRequest<unknown, unknown>) => EndpointResult | undefined;

const fakeEvent = (): EndpointResult => ({ event_id: `$${randomBytes(32).toString('base64url')}` });

const GUARDED: ReadonlyMap<string, FakeAnswer> = new Map<string, FakeAnswer>([
  [`PUT ${V3}/send/:eventType/:txnId`, fakeEvent],
  [`PUT ${V3}/redact/:eventId/:txnId`, fakeEvent],
  // Membership through the state endpoint goes on: joining and leaving are not banned.
  [`PUT ${V3}/state/:eventType/:stateKey`, (r) => (r.params['eventType'] === 'm.room.member' ? undefined : fakeEvent())],
  [`PUT ${V3}/state/:eventType`, (r) => (r.params['eventType'] === 'm.room.member' ? undefined : fakeEvent())],
  [`PUT ${V3}/state/:eventType/`, (r) => (r.params['eventType'] === 'm.room.member' ? undefined : fakeEvent())],
  [`POST ${V3}/invite`, () => ({})],
  [`PUT ${V3}/typing/:userId`, () => ({})],
]);

export class ShadowBans {
  readonly #repository: AdminRepository;
  readonly #logger: Logger;
  #banned = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  readonly #cluster: Cluster | undefined;

  constructor(deps: { repository: AdminRepository; logger: Logger; cluster?: Cluster }) {
    this.#repository = deps.repository;
    this.#logger = deps.logger;
    this.#cluster = deps.cluster;
  }

  async start(): Promise<void> {
    this.#banned = new Set(await this.#repository.shadowBannedUsers());
    const reload = () => {
      this.#repository.shadowBannedUsers().then(
        (users) => (this.#banned = new Set(users)),
        (err: unknown) => this.#logger.warn({ err }, 'could not reload shadow bans'),
      );
    };
    this.#cluster?.onAttachment(CHANGED_CHANNEL, reload);
    this.#timer = setInterval(reload, REFRESH_MS);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  has(userId: string): boolean {
    return this.#banned.has(userId);
  }

  async set(userId: string, banned: boolean, by: string, now: number): Promise<void> {
    await this.#repository.setShadowBanned(userId, banned, by, now);
    if (banned) this.#banned.add(userId);
    else this.#banned.delete(userId);
    this.#cluster?.attach(CHANGED_CHANNEL, userId);
  }

  /** `endpoints`, with the guarded ones answering banned users without acting. */
  guard(endpoints: readonly Endpoint[]): Endpoint[] {
    return endpoints.map((endpoint) => {
      const fake = GUARDED.get(`${endpoint.method} ${endpoint.path.replace(/^\/_matrix\/client\/r0\//, '/_matrix/client/v3/')}`);
      if (fake === undefined) return endpoint;
      return {
        ...endpoint,
        handler: (request) => {
          const requester = request.auth as Requester | undefined;
          const answer = requester !== undefined && this.#banned.has(requester.userId) ? fake(request) : undefined;
          return answer ?? endpoint.handler(request);
        },
      };
    });
  }
}

export function shadowBanEndpoints(deps: {
  access: AdminAccess;
  repository: AdminRepository;
  bans: ShadowBans;
  serverName: string;
  clock: () => number;
}): Endpoint[] {
  const { access, repository, bans, serverName, clock } = deps;
  const path = '/_synapse/admin/v1/users/:userId/shadow_ban';
  const target = ({ params }: { params: Readonly<Record<string, string>> }): string | null => params['userId'] ?? null;
  const change = (banned: boolean) => async ({ params, auth }: EndpointRequest<Requester, undefined>) => {
    const userId = localUserParam(params['userId'], serverName);
    if ((await repository.findUser(userId)) === undefined) throw notFound('User not found');
    await bans.set(userId, banned, auth.userId, clock());
    return {};
  };
  return [
    access.endpoint({ method: 'POST', path, access: 'admin', action: 'shadow-ban', target, handler: change(true) }),
    access.endpoint({ method: 'DELETE', path, access: 'admin', action: 'lift-shadow-ban', target, handler: change(false) }),
  ];
}
