// End-to-end encryption across servers, both ways, for the composition root:
// - inbound: the handlers of `m.direct_to_device`, `m.device_list_update` and
//   `m.signing_key_update` (main.ts adds them to the map it gave createFederation);
// - outbound: the port the client API's E2EE services use to reach other servers (its
//   `E2eeFederation`, satisfied structurally since federation does not import the client
//   API): key queries and claims as signed requests, EDUs through the durable sender, and
//   resyncs of remote users' cached device lists (GET /user/devices).
// The E2EE streams are the ones the client API's /sync reads, so remote changes wake syncs.
// With the roomserver given, leaves mark the cached lists of remote users we stop sharing
// rooms with as stale (see e2ee-device-lists.ts).

import type { Logger } from '../../logger.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import { DevicesRepository } from '../../storage/devices-repository.ts';
import { E2eeDeviceListsRepository } from '../../storage/e2ee-device-lists-repository.ts';
import { E2eeKeysRepository } from '../../storage/e2ee-keys-repository.ts';
import type { E2eeStreams } from '../../storage/e2ee-streams.ts';
import { E2eeToDeviceRepository } from '../../storage/e2ee-to-device-repository.ts';
import type { FederationClient } from '../client/federation-client.ts';
import type { FederationSender } from '../sender/federation-sender.ts';
import type { EduHandler } from '../server/edus.ts';
import { DeviceListUpdateEduHandler } from './e2ee-device-lists.ts';
import { SigningKeyUpdateEduHandler } from './e2ee-signing-keys.ts';
import { DirectToDeviceEduHandler } from './e2ee-to-device.ts';
import { RemoteUserWatchers } from './e2ee-watchers.ts';

/** The client API's `E2eeFederation` (src/client-api/e2ee/federation-port.ts), structurally. */
export interface E2eeFederationPort {
  queryKeys(destination: string, body: JsonObject): Promise<JsonObject>;
  claimKeys(destination: string, body: JsonObject): Promise<JsonObject>;
  sendEdu(destination: string, eduType: string, content: JsonObject): Promise<void>;
  resyncDeviceList(userId: string): Promise<void>;
}

export interface E2eeFederationDeps {
  readonly serverName: string;
  readonly db: StoaDatabase;
  readonly streams: E2eeStreams;
  readonly client: Pick<FederationClient, 'get' | 'post'>;
  readonly sender: Pick<FederationSender, 'enqueueEdu'>;
  readonly rooms?: Pick<Roomserver, 'onNewEvent' | 'members'>;
  readonly logger: Logger;
  readonly clock: () => number;
}

export interface E2eeFederationWiring {
  /** `m.direct_to_device`, `m.device_list_update`, `m.signing_key_update`. */
  readonly handlers: ReadonlyMap<string, EduHandler>;
  readonly port: E2eeFederationPort;
  /** Waits for device-list updates being processed in the background. */
  close(): Promise<void>;
}

export function createE2eeFederation(deps: E2eeFederationDeps): E2eeFederationWiring {
  const logger = deps.logger.child({ component: 'federation-e2ee' });
  const kysely = deps.db.kysely;
  const keys = new E2eeKeysRepository(kysely);
  const watchers = new RemoteUserWatchers({ serverName: deps.serverName, db: deps.db, stream: deps.streams.deviceLists, clock: deps.clock });
  const rooms = deps.rooms;
  const deviceLists = new DeviceListUpdateEduHandler({
    deviceLists: new E2eeDeviceListsRepository(kysely),
    keys,
    watchers,
    client: deps.client,
    serverName: deps.serverName,
    ...(rooms === undefined ? {} : { members: (roomId: string) => rooms.members(roomId, 'join') }),
    logger,
    clock: deps.clock,
  });
  const unsubscribe = rooms?.onNewEvent((event) => deviceLists.onNewEvent(event));
  const handlers = new Map<string, EduHandler>([
    [
      'm.direct_to_device',
      new DirectToDeviceEduHandler({
        serverName: deps.serverName,
        toDevice: new E2eeToDeviceRepository(kysely),
        devices: new DevicesRepository(kysely),
        stream: deps.streams.toDevice,
        logger,
        clock: deps.clock,
      }),
    ],
    ['m.device_list_update', deviceLists],
    ['m.signing_key_update', new SigningKeyUpdateEduHandler({ keys, watchers, logger, clock: deps.clock })],
  ]);
  const port: E2eeFederationPort = {
    queryKeys: (destination, body) => deps.client.post(destination, '/_matrix/federation/v1/user/keys/query', body),
    claimKeys: (destination, body) => deps.client.post(destination, '/_matrix/federation/v1/user/keys/claim', body),
    sendEdu: (destination, eduType, content) => deps.sender.enqueueEdu(destination, { edu_type: eduType, content }),
    resyncDeviceList: (userId) => deviceLists.resync(userId),
  };
  return {
    handlers,
    port,
    close: () => {
      unsubscribe?.();
      return deviceLists.close();
    },
  };
}
