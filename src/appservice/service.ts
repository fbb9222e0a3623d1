// Application services as the rest of the server sees them: who an `as_token` is and whom
// it may act as (application-service API § "Identity assertion"), which namespaces are
// exclusive, the user and alias queries (§ "Querying"), and the rate-limit exemption of
// services registered with `rate_limited: false`.

import type { Requester, RateLimiter } from '../http/define-endpoint.ts';
import { forbidden, MatrixError, missingToken, unknownToken } from '../http/matrix-error.ts';
import type { Logger } from '../logger.ts';
import { AccountsRepository, DevicesRepository, type StoaDatabase } from '../storage/index.ts';
import type { AppServiceClient } from './client.ts';
import { NamespaceMatcher } from './namespaces.ts';
import type { AppServiceRegistration } from './registration.ts';

export interface AppServicesOptions {
  readonly registrations: readonly AppServiceRegistration[];
  readonly serverName: string;
  readonly db: StoaDatabase;
  readonly client: AppServiceClient;
  readonly logger: Logger;
  readonly clock: () => number;
}

/** The identity-assertion query parameters; both unstable and stable names are read. */
export interface IdentityAssertion {
  readonly userId: string | undefined;
  readonly deviceId: string | undefined;
}

export class AppServices {
  readonly registrations: readonly AppServiceRegistration[];
  readonly matcher: NamespaceMatcher;
  readonly client: AppServiceClient;
  readonly clock: () => number;
  readonly #byToken: ReadonlyMap<string, AppServiceRegistration>;
  readonly #accounts: AccountsRepository;
  readonly #devices: DevicesRepository;
  readonly #logger: Logger;

  constructor(options: AppServicesOptions) {
    this.registrations = options.registrations;
    this.matcher = new NamespaceMatcher(options.registrations, options.serverName);
    this.client = options.client;
    this.clock = options.clock;
    this.#byToken = new Map(options.registrations.map((r) => [r.asToken, r]));
    this.#accounts = new AccountsRepository(options.db.kysely);
    this.#devices = new DevicesRepository(options.db.kysely);
    this.#logger = options.logger;
  }

  get isEmpty(): boolean {
    return this.registrations.length === 0;
  }

  byToken(token: string): AppServiceRegistration | undefined {
    return this.#byToken.get(token);
  }

  byId(id: string): AppServiceRegistration | undefined {
    return this.registrations.find((r) => r.id === id);
  }

  /**
   * The service whose `as_token` a request carries (`Authorization: Bearer`, else
   * `?access_token=`), for /register and /login with m.login.application_service, which
   * authenticate themselves: 401 M_MISSING_TOKEN without a token, M_UNKNOWN_TOKEN for any
   * other token (§ "Server admin style permissions").
   */
  serviceForRequest(authorization: string, query: URLSearchParams): AppServiceRegistration {
    let token: string | undefined;
    if (authorization !== '') token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    else token = query.get('access_token') ?? undefined;
    if (token === undefined || token === '') throw missingToken();
    const registration = this.#byToken.get(token);
    if (registration === undefined) throw unknownToken('The access token is not an application service token');
    return registration;
  }

  /** The requester for `token` when it is an `as_token`; undefined for any other token. */
  async authenticate(token: string, query: URLSearchParams | undefined): Promise<Requester | undefined> {
    const registration = this.#byToken.get(token);
    if (registration === undefined) return undefined;
    return this.requesterFor(registration, identityAssertionOf(query ?? new URLSearchParams()));
  }

  /**
   * The requester an `as_token` stands for: the sender user, or the `user_id` asserted
   * (403 M_FORBIDDEN outside the service's user namespaces or when not registered), on the
   * `device_id` asserted (400 M_UNKNOWN_DEVICE unless it is that user's).
   */
  async requesterFor(registration: AppServiceRegistration, assertion: IdentityAssertion): Promise<Requester> {
    const userId = assertion.userId ?? registration.senderUserId;
    if (userId !== registration.senderUserId) {
      if (!this.matcher.isUserOf(registration, userId)) {
        throw forbidden(`Application service cannot masquerade as this user (${userId})`);
      }
      if (!(await this.#accounts.userExists(userId))) {
        throw forbidden(`Application service has not registered this user (${userId})`);
      }
    }
    let deviceId: string | undefined;
    if (assertion.deviceId !== undefined) {
      if ((await this.#devices.find(userId, assertion.deviceId)) === undefined) {
        throw new MatrixError(400, 'M_UNKNOWN_DEVICE', 'Device does not exist for this user');
      }
      deviceId = assertion.deviceId;
    }
    return { userId, deviceId, isGuest: false, appServiceId: registration.id };
  }

  /** Creates each service's sender user when missing (Synapse does too), so its token works at once. */
  async ensureSenderUsers(): Promise<void> {
    for (const registration of this.registrations) {
      const created = await this.#accounts.createUser({
        userId: registration.senderUserId,
        passwordHash: null,
        createdTs: this.clock(),
      });
      if (created) this.#logger.info({ appservice: registration.id, user_id: registration.senderUserId }, 'registered application service sender');
    }
  }

  /** M_EXCLUSIVE unless `userId` is free of other services' exclusive namespaces. */
  checkUserNotExclusive(userId: string, actingService: AppServiceRegistration | undefined): void {
    const owner = this.matcher.exclusiveUserOwner(userId);
    if (owner !== undefined && owner !== actingService) throw exclusive(`User ID ${userId} is reserved by an application service`);
  }

  /**
   * M_EXCLUSIVE when `alias` is in a service's exclusive namespace and `creator` is not that
   * service's user (its sender or a user in its namespaces).
   */
  checkAliasAllowed(alias: string, creator: string, actingServiceId: string | undefined): void {
    const owner = this.matcher.exclusiveAliasOwner(alias);
    if (owner === undefined) return;
    if (actingServiceId === owner.id || this.matcher.isUserOf(owner, creator)) return;
    throw exclusive(`Room alias ${alias} is reserved by an application service`);
  }

  /** Asks the services whose namespaces hold `userId` whether it exists; true once one says yes. */
  async queryUser(userId: string): Promise<boolean> {
    for (const registration of this.matcher.servicesForUser(userId)) {
      if (registration.url === null) continue;
      try {
        if (await this.client.queryUser(registration, userId)) return true;
      } catch (err) {
        this.#logger.warn({ err, appservice: registration.id, user_id: userId }, 'application service user query failed');
      }
    }
    return false;
  }

  /** Asks the services whose namespaces hold `alias` to create it; true once one says it did. */
  async queryAlias(alias: string): Promise<boolean> {
    for (const registration of this.matcher.servicesForAlias(alias)) {
      if (registration.url === null) continue;
      try {
        if (await this.client.queryAlias(registration, alias)) return true;
      } catch (err) {
        this.#logger.warn({ err, appservice: registration.id, alias }, 'application service alias query failed');
      }
    }
    return false;
  }

  /**
   * `limiter` with the users of `rate_limited: false` services exempt (their senders and
   * user namespaces), as Synapse exempts such services' requests.
   */
  exemptFromRateLimits(limiter: RateLimiter): RateLimiter {
    const unlimited = this.registrations.filter((r) => !r.rateLimited);
    if (unlimited.length === 0) return limiter;
    return {
      consume: (bucket, key, bearerToken) => {
        if (key.startsWith('user:')) {
          const userId = key.slice('user:'.length);
          if (unlimited.some((r) => this.matcher.isUserOf(r, userId))) return 0;
        }
        // /register is unauthenticated (limited per IP), but a service registering its
        // users sends its as_token: only a real one exempts, so random tokens change nothing.
        if (bearerToken !== undefined) {
          const registration = this.#byToken.get(bearerToken);
          if (registration !== undefined && !registration.rateLimited) return 0;
        }
        return limiter.consume(bucket, key, bearerToken);
      },
    };
  }
}

export function exclusive(message: string): MatrixError {
  return new MatrixError(400, 'M_EXCLUSIVE', message);
}

/** The identity-assertion parameters of a request's query (stable names, then MSC3202's). */
export function identityAssertionOf(query: URLSearchParams): IdentityAssertion {
  const userId = query.get('user_id') ?? undefined;
  const deviceId = query.get('device_id') ?? query.get('org.matrix.msc3202.device_id') ?? undefined;
  return { userId: userId === '' ? undefined : userId, deviceId: deviceId === '' ? undefined : deviceId };
}
