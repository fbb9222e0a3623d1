// Room tags (client-server § "Room Tagging").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { AccountDataService } from '../../ephemeral/account-data.ts';
import { deleteRoomTagEndpoint, getRoomTagsEndpoint, setRoomTagEndpoint } from './tags-endpoints.ts';

export function tagEndpoints(accountData: AccountDataService): Endpoint[] {
  return [getRoomTagsEndpoint(accountData), setRoomTagEndpoint(accountData), deleteRoomTagEndpoint(accountData)];
}
