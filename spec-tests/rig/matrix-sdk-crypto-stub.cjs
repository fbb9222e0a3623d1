// Stands in for @matrix-org/matrix-sdk-crypto-nodejs, whose native binary is not installed:
// matrix-appservice-bridge loads it through matrix-bot-sdk, but the tests never encrypt.
'use strict';
class Unavailable {
  constructor() {
    throw new Error('@matrix-org/matrix-sdk-crypto-nodejs is stubbed in the tests');
  }
}
for (const name of ['Attachment', 'DeviceId', 'DeviceLists', 'EncryptedAttachment', 'EncryptionSettings', 'OlmMachine', 'RoomId', 'UserId', 'RequestType', 'StoreType', 'EncryptionAlgorithm', 'HistoryVisibility', 'KeysClaimRequest', 'KeysQueryRequest', 'KeysUploadRequest', 'RoomMessageRequest', 'SignatureUploadRequest', 'ToDeviceRequest', 'KeysBackupRequest']) {
  exports[name] = class extends Unavailable {};
}
