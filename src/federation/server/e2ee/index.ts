// The federation side of end-to-end encryption (server-server § "End-to-End Encryption",
// § "Device Management"): other servers query and claim our users' keys and fetch their
// device lists. The EDUs (to-device, device list and signing-key updates) are handled in
// ../../edu/e2ee-*.ts.

import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { StoaDatabase } from '../../../storage/database.ts';
import { E2eeDeviceListsRepository } from '../../../storage/e2ee-device-lists-repository.ts';
import { E2eeKeyDirectory } from '../../../storage/e2ee-key-directory.ts';
import { userDevicesEndpoint } from './user-devices.ts';
import { userKeysEndpoints } from './user-keys.ts';

export function e2eeFederationEndpoints(deps: { readonly serverName: string; readonly db: StoaDatabase }): Endpoint[] {
  const directory = new E2eeKeyDirectory(deps.db.kysely);
  return [
    ...userKeysEndpoints({ serverName: deps.serverName, directory }),
    userDevicesEndpoint({ serverName: deps.serverName, directory, deviceLists: new E2eeDeviceListsRepository(deps.db.kysely) }),
  ];
}
