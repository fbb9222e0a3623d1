// Client-server § "Guest access": the endpoints guest accounts may use, by operationId. Every
// other authenticated endpoint answers 403 M_GUEST_ACCESS_FORBIDDEN to a guest. One list here,
// checked by the HTTP layer, rather than a guard in each handler that a new endpoint could
// forget.

/** The spec's lists (reading, sending, account maintenance, end-to-end encryption). */
const SPEC_GUEST_OPERATIONS: ReadonlySet<string> = new Set([
  // Retrieving events and media.
  'getRoomState',
  'getEventContext',
  'getOneRoomEvent',
  'getRoomStateWithKey',
  'getRoomEvents',
  'getMembersByRoom',
  'roomInitialSync',
  'sync',
  'getEvents',
  'getContentAuthed',
  'getContentOverrideNameAuthed',
  'getContentThumbnailAuthed',
  // Sending events.
  'joinRoomById',
  'leaveRoom',
  'sendMessage',
  'setRoomStateWithKey',
  'sendToDevice',
  // Account maintenance (profile: the display name only, below).
  'setProfileField',
  'deleteProfileField',
  'getDevices',
  'getDevice',
  'updateDevice',
  'getTokenOwner',
  // End-to-end encryption.
  'uploadKeys',
  'queryKeys',
  'claimKeys',
]);

/**
 * What a guest's client needs around those to work at all, as Synapse also allows: sync
 * filters, reading profiles, ephemeral events in rooms it joined, logging out, capabilities.
 */
const CLIENT_NEEDS: ReadonlySet<string> = new Set([
  'defineFilter',
  'getFilter',
  'getUserProfile',
  'getProfileField',
  'joinRoom',
  'setTyping',
  'postReceipt',
  'setReadMarker',
  'getKeysChanges',
  'getCapabilities',
  'getConfigAuthed',
  'getTurnServer',
  'logout',
  'logout_all',
]);

/** Whether a guest may call the endpoint with this operationId and these path parameters. */
export function guestMayUse(operationId: string | undefined, params: Readonly<Record<string, string>>): boolean {
  if (operationId === undefined) return false;
  if (operationId === 'setProfileField' || operationId === 'deleteProfileField') return params['keyName'] === 'displayname';
  return SPEC_GUEST_OPERATIONS.has(operationId) || CLIENT_NEEDS.has(operationId);
}
