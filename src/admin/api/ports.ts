// What the admin API needs from other areas, as ports the composition root fills in: the
// client API's account service (deactivation, passwords and sessions must go through the
// same code as the client endpoints, so devices, tokens and listeners stay consistent), its
// profile service (a display name change re-sends member events), and the media service's
// admin operations. admin may not import client-api or media; these shapes match theirs.

import type { JsonObject, JsonValue } from '../../rooms/json.ts';

export interface AdminAccountsPort {
  register(input: { userId: string; password: string | undefined; isAdmin?: boolean; displayName?: string | undefined }): Promise<void>;
  changePassword(userId: string, newPassword: string, options: { logoutDevices: boolean; keepDeviceId: string | undefined }): Promise<void>;
  deactivate(userId: string): Promise<void>;
  deleteAllDevices(userId: string, keep?: string): Promise<void>;
  issueSession(input: { userId: string; deviceId?: string | undefined; initialDisplayName?: string | undefined; refreshable: boolean }): Promise<{
    readonly accessToken: string;
    readonly deviceId: string;
  }>;
}

export interface AdminProfilesPort {
  /** `requester` must be `userId`: the admin API acts as the user. */
  set(requester: string, userId: string, key: string, value: JsonValue): Promise<void>;
  delete(requester: string, userId: string, key: string): Promise<void>;
}

export interface AdminMediaPort {
  quarantine(serverName: string, mediaId: string, by: string): Promise<boolean>;
  releaseFromQuarantine(serverName: string, mediaId: string): Promise<boolean>;
  delete(serverName: string, mediaId: string): Promise<boolean>;
}

export interface AdminRoomTagsPort {
  /** `requester` must be `userId`: the admin API tags the room as the user. */
  setTag(requester: string, userId: string, roomId: string, tag: string, data: JsonObject): Promise<void>;
}
