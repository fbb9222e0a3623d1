// Which application service a user ID, alias or room ID belongs to (application-service
// API § "Registration"): a service is interested in what matches any of its namespaces; an
// exclusive namespace also keeps humans and other services out of it. For users only local
// IDs count (the spec's note), and the service's own sender user is always in its namespace.

import type { AppServiceRegistration, Namespace } from './registration.ts';

export class NamespaceMatcher {
  readonly #registrations: readonly AppServiceRegistration[];
  readonly #serverName: string;

  constructor(registrations: readonly AppServiceRegistration[], serverName: string) {
    this.#registrations = registrations;
    this.#serverName = serverName;
  }

  /** `userId` is the service's sender or in one of its user namespaces (local users only). */
  isUserOf(registration: AppServiceRegistration, userId: string): boolean {
    if (userId === registration.senderUserId) return true;
    return this.#isLocalUser(userId) && matchesAny(registration.namespaces.users, userId);
  }

  isAliasOf(registration: AppServiceRegistration, alias: string): boolean {
    return matchesAny(registration.namespaces.aliases, alias);
  }

  isRoomOf(registration: AppServiceRegistration, roomId: string): boolean {
    return matchesAny(registration.namespaces.rooms, roomId);
  }

  /** The service holding `userId` exclusively (its sender user counts), if any. */
  exclusiveUserOwner(userId: string): AppServiceRegistration | undefined {
    if (!this.#isLocalUser(userId)) return undefined;
    return this.#registrations.find((r) => r.senderUserId === userId || matchesAny(r.namespaces.users, userId, true));
  }

  exclusiveAliasOwner(alias: string): AppServiceRegistration | undefined {
    return this.#registrations.find((r) => matchesAny(r.namespaces.aliases, alias, true));
  }

  /** Services with `userId` in a user namespace, for queries (exclusive ones first). */
  servicesForUser(userId: string): AppServiceRegistration[] {
    return sortExclusiveFirst(this.#registrations.filter((r) => this.isUserOf(r, userId)), (r) => r.namespaces.users, userId);
  }

  servicesForAlias(alias: string): AppServiceRegistration[] {
    return sortExclusiveFirst(this.#registrations.filter((r) => this.isAliasOf(r, alias)), (r) => r.namespaces.aliases, alias);
  }

  #isLocalUser(userId: string): boolean {
    return userId.startsWith('@') && userId.endsWith(`:${this.#serverName}`);
  }
}

function matchesAny(namespaces: readonly Namespace[], value: string, exclusiveOnly = false): boolean {
  return namespaces.some((ns) => (!exclusiveOnly || ns.exclusive) && ns.pattern.test(value));
}

function sortExclusiveFirst(
  registrations: AppServiceRegistration[],
  namespacesOf: (r: AppServiceRegistration) => readonly Namespace[],
  value: string,
): AppServiceRegistration[] {
  const exclusive = (r: AppServiceRegistration) => (matchesAny(namespacesOf(r), value, true) ? 0 : 1);
  return registrations.sort((a, b) => exclusive(a) - exclusive(b));
}
