// The per-user client state services behind /sync's non-room streams and their endpoints:
// typing, receipts, account data (with tags and read markers), presence, and profiles.
// Built once by src/client-api/index.ts and handed to both the endpoints and /sync.

import type { Logger } from '../../logger.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { ProfileService } from '../profile/profile-service.ts';
import { AccountDataService } from './account-data.ts';
import { PresenceService } from './presence.ts';
import { ReadMarkers } from './read-markers.ts';
import { ReceiptsService } from './receipts.ts';
import { realScheduler, type Scheduler } from './scheduler.ts';
import { TypingService } from './typing.ts';

export { AccountDataService } from './account-data.ts';
export { PresenceService } from './presence.ts';
export { ReadMarkers } from './read-markers.ts';
export { ReceiptsService } from './receipts.ts';
export { TypingService } from './typing.ts';
export type { Scheduler } from './scheduler.ts';

export interface EphemeralDeps {
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly serverName: string;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Timers; real ones unless a test moves time by hand. */
  readonly schedule?: Scheduler;
  /** Asks application services about unknown users in their namespaces (profile lookups). */
  readonly queryAppServiceUser?: ((userId: string) => Promise<boolean>) | undefined;
}

export interface EphemeralServices {
  readonly typing: TypingService;
  readonly receipts: ReceiptsService;
  readonly accountData: AccountDataService;
  readonly presence: PresenceService;
  readonly readMarkers: ReadMarkers;
  readonly profile: ProfileService;
  /** Resolves once every stream has read its position from the database. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createEphemeralServices(deps: EphemeralDeps): EphemeralServices {
  const schedule = deps.schedule ?? realScheduler;
  const typing = new TypingService({ clock: deps.clock, schedule });
  const receipts = new ReceiptsService({ db: deps.db, roomserver: deps.roomserver, clock: deps.clock });
  const accountData = new AccountDataService({ db: deps.db });
  const presence = new PresenceService({
    db: deps.db,
    roomserver: deps.roomserver,
    serverName: deps.serverName,
    clock: deps.clock,
    schedule,
  });
  // Several processes on one database: their writes to these streams wake each other's syncs.
  const cluster = deps.roomserver.cluster as Roomserver['cluster'] | undefined;
  if (cluster !== undefined) {
    for (const stream of [receipts, accountData, presence]) stream.share(cluster);
    typing.share(cluster);
  }
  const readMarkers = new ReadMarkers({ roomserver: deps.roomserver, accountData, receipts });
  const profile = new ProfileService({
    db: deps.db,
    roomserver: deps.roomserver,
    serverName: deps.serverName,
    logger: deps.logger,
    clock: deps.clock,
    queryAppServiceUser: deps.queryAppServiceUser,
  });

  const unsubscribe = deps.roomserver.onNewEvent((event) => {
    // The process that wrote the event does this (and tells the others of typing changes).
    if (event.writtenElsewhere === true) return;
    // Someone who left stops typing there at once rather than at their timeout.
    const change = event.membershipChange;
    if (change !== undefined && change.membership !== 'join') typing.setTyping(event.roomId, change.target, false);
    // Sending an event is the "pro-active event" of § "Last active ago".
    if (event.origin === deps.serverName && presence.isLocal(event.sender)) {
      presence.userActive(event.sender).catch((err: unknown) => {
        deps.logger.warn({ err, userId: event.sender }, 'could not record presence activity');
      });
    }
  });

  return {
    typing,
    receipts,
    accountData,
    presence,
    readMarkers,
    profile,
    async ready() {
      await Promise.all([receipts.ready(), accountData.ready(), presence.ready()]);
    },
    async close() {
      unsubscribe();
      typing.close();
      presence.close();
    },
  };
}
