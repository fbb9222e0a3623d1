// What E2EE needs from federation, supplied by the composition root (the client API does
// not import federation): key queries and claims against other servers, and EDUs to them.
// Absent (federation disabled): remote users' keys are reported as `failures`.

import type { JsonObject } from '../../rooms/json.ts';

export interface E2eeFederation {
  /** POST /_matrix/federation/v1/user/keys/query on `destination`. Throws when it fails. */
  queryKeys(destination: string, body: JsonObject): Promise<JsonObject>;
  /** POST /_matrix/federation/v1/user/keys/claim on `destination`. Throws when it fails. */
  claimKeys(destination: string, body: JsonObject): Promise<JsonObject>;
  /** Queues an EDU for `destination` durably (the federation sender). */
  sendEdu(destination: string, eduType: string, content: JsonObject): Promise<void>;
  /**
   * Replaces the cached device list of a remote user with their server's
   * (GET /_matrix/federation/v1/user/devices/{userId}). Throws when it fails.
   */
  resyncDeviceList(userId: string): Promise<void>;
}
