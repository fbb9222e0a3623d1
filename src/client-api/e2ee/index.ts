// End-to-end encryption support as one unit for src/client-api/index.ts: the services (keys,
// cross-signing, backup, to-device, device lists), their endpoints, and the two /sync
// sources (`toDevice`, `deviceLists`). The streams are shared with federation's EDU handlers,
// so the composition root creates them (createE2eeStreams) and passes them in.

import type { Endpoint } from '../../http/define-endpoint.ts';
import type { Logger } from '../../logger.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import type { E2eeStreams } from '../../storage/e2ee-streams.ts';
import type { AccountService } from '../auth/account-service.ts';
import type { UserInteractiveAuth } from '../auth/uia.ts';
import { DUMMY, PASSWORD } from '../auth/uia-stages.ts';
import { keyBackupEndpoints } from '../endpoints/key-backup/index.ts';
import { keysEndpoints } from '../endpoints/keys/index.ts';
import { toDeviceEndpoints } from '../endpoints/to-device/send-to-device.ts';
import type { DeviceListsSource } from '../sync/sources.ts';
import { BackupService } from './backup-service.ts';
import { CrossSigningService } from './cross-signing-service.ts';
import { DeviceListService } from './device-lists.ts';
import type { E2eeFederation } from './federation-port.ts';
import { KeysService } from './keys-service.ts';
import { ToDeviceService } from './to-device-service.ts';

export type { E2eeFederation } from './federation-port.ts';

export interface E2eeDeps {
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly serverName: string;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly streams: E2eeStreams;
  readonly federation: E2eeFederation | undefined;
  readonly uia: UserInteractiveAuth;
  readonly accounts: AccountService;
  /** The account area's re-authentication flows (password, single sign-on); default below. */
  readonly reauthFlows?: (userId: string) => Promise<string[][]>;
}

export interface E2ee {
  readonly endpoints: readonly Endpoint[];
  readonly toDevice: ToDeviceService;
  readonly deviceListsSource: DeviceListsSource;
  readonly keys: KeysService;
  readonly deviceLists: DeviceListService;
}

export function createE2ee(deps: E2eeDeps): E2ee {
  const logger = deps.logger.child({ area: 'e2ee' });
  const deviceLists = new DeviceListService({
    db: deps.db,
    roomserver: deps.roomserver,
    stream: deps.streams.deviceLists,
    serverName: deps.serverName,
    federation: deps.federation,
    logger,
    clock: deps.clock,
  });
  const keys = new KeysService({ db: deps.db, serverName: deps.serverName, deviceLists, federation: deps.federation, logger, clock: deps.clock });
  const crossSigning = new CrossSigningService({ db: deps.db, deviceLists, clock: deps.clock });
  const toDevice = new ToDeviceService({
    db: deps.db,
    stream: deps.streams.toDevice,
    serverName: deps.serverName,
    federation: deps.federation,
    logger,
    clock: deps.clock,
  });
  const backup = new BackupService(deps.db);

  deps.accounts.onDeviceChange(async (change) => {
    if (change.change === 'deleted') {
      await keys.deviceDeleted(change.userId, change.deviceId);
      await toDevice.deviceDeleted(change.userId, change.deviceId);
    } else if (change.change === 'updated') {
      const device = await deps.accounts.devices.find(change.userId, change.deviceId);
      await deviceLists.userChanged(change.userId, [{ deviceId: change.deviceId, deleted: false, displayName: device?.displayName ?? null }]);
    }
  });

  // Servers that start to share a room with a local user get the user's device list.
  deps.roomserver.onNewEvent((event) => {
    const change = event.membershipChange;
    if (change === undefined || event.writtenElsewhere === true) return;
    deviceLists.membershipChanged(event.roomId, change).catch((err: unknown) => {
      logger.warn({ err, room_id: event.roomId }, 'could not send device lists to servers new to a room');
    });
  });

  // An account without a password (made by an administrator) re-authenticates with the
  // access token alone, as for the other sensitive endpoints.
  const reauthFlows =
    deps.reauthFlows ??
    (async (userId: string): Promise<string[][]> => {
      const user = await deps.accounts.accounts.findUser(userId);
      return user?.passwordHash === null ? [[DUMMY]] : [[PASSWORD]];
    });

  const deviceListsSource: DeviceListsSource = {
    get streamKey() {
      return deviceLists.streamKey;
    },
    currentPosition: () => deviceLists.currentPosition(),
    onAdvance: (listener) => deviceLists.onAdvance(listener),
    changes: (userId, since, to) => deviceLists.changes(userId, since, to),
    counts: (userId, deviceId) => keys.counts(userId, deviceId),
  };

  return {
    endpoints: [
      ...keysEndpoints({ keys, deviceLists, crossSigning, uia: deps.uia, reauthFlows }),
      ...keyBackupEndpoints(backup),
      ...toDeviceEndpoints(toDevice),
    ],
    toDevice,
    deviceListsSource,
    keys,
    deviceLists,
  };
}
