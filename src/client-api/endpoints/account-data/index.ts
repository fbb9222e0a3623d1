// Account data (client-server § "Client Config").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { AccountDataService } from '../../ephemeral/account-data.ts';
import { getAccountDataEndpoint, setAccountDataEndpoint } from './account-data-endpoints.ts';

export function accountDataEndpoints(accountData: AccountDataService): Endpoint[] {
  return [
    getAccountDataEndpoint(accountData, false),
    setAccountDataEndpoint(accountData, false),
    getAccountDataEndpoint(accountData, true),
    setAccountDataEndpoint(accountData, true),
  ];
}
