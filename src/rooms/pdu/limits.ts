// Size limits on PDUs.
//   content/client-server-api/_index.md "Size limits": the whole event as canonical JSON,
//   signatures included; `type` and `state_key` at most 255 bytes; `sender`, `room_id` and
//   `event_id` at the identifier limits of content/appendices.md (255 bytes).
//   data/api/server-server/definitions/pdu_v*.yaml: at most 20 `prev_events`, 10
//   `auth_events`; `depth` below 2^63 - 1 (v1–v5) or 2^53 - 1 (v6+, components/depth_v6).

export const MAX_PDU_BYTES = 65_536;
export const MAX_TYPE_BYTES = 255;
export const MAX_STATE_KEY_BYTES = 255;
export const MAX_PREV_EVENTS = 20;
export const MAX_AUTH_EVENTS = 10;

/**
 * The largest depth Stoa accepts or builds, in every room version. v6+ say 2^53 - 1. v1–v5
 * allow up to 2^63 - 1, but a depth beyond 2^53 - 1 does not survive a JavaScript number,
 * so its canonical JSON (which the signatures cover) could not be reproduced anyway.
 */
export const MAX_DEPTH = Number.MAX_SAFE_INTEGER;

/**
 * A guard on raw PDU text before it is parsed at all. The spec's limit is on canonical JSON,
 * which may be much shorter than the text received (insignificant whitespace, a 6-byte
 * `\u0041` escape for one byte), so the raw limit is a multiple: large enough never to drop
 * an event the spec admits in practice, small enough that parsing stays cheap.
 */
export const MAX_RAW_PDU_TEXT_BYTES = 8 * MAX_PDU_BYTES;
