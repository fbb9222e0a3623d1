// mxc:// URIs (client-server § "Matrix Content (mxc://) URIs" and § "Security
// considerations"): the server name must be a valid server name and the media ID only
// `A-Za-z0-9_-`. Checking both against these allow-lists, rather than rejecting `.` and `/`,
// is what keeps percent-encoded or Unicode traversals out.

import { randomInt } from 'node:crypto';
import { isValidServerName } from '../rooms/identifiers.ts';

const MEDIA_ID = /^[A-Za-z0-9_-]{1,255}$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const GENERATED_LENGTH = 24;

export function isValidMediaId(mediaId: string): boolean {
  return MEDIA_ID.test(mediaId);
}

export function isValidMediaServerName(serverName: string): boolean {
  return isValidServerName(serverName);
}

/** A new media ID: 24 characters of A-Za-z0-9, about 143 bits of randomness. */
export function generateMediaId(): string {
  let id = '';
  for (let i = 0; i < GENERATED_LENGTH; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

export function mxcUri(serverName: string, mediaId: string): string {
  return `mxc://${serverName}/${mediaId}`;
}
