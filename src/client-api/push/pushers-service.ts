// Pushers (client-server § "Push Notifications" › "Client behaviour"; pusher.yaml getPushers,
// postPusher). Only `http` pushers are supported: this server sends no email.

import { MatrixError, invalidParam, missingParam } from '../../http/matrix-error.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { PushersRepository, type StoredPusher } from '../../storage/pushers-repository.ts';

/** pusher.yaml: "Max length, 64 chars" and "Max length, 512 bytes". */
const MAX_APP_ID_CHARS = 64;
const MAX_PUSHKEY_BYTES = 512;
/** pusher.yaml `data.url`: "MUST be an HTTPS URL with a path of /_matrix/push/v1/notify". */
export const PUSH_GATEWAY_PATH = '/_matrix/push/v1/notify';

export class PushersService {
  readonly #repo: PushersRepository;
  readonly #clock: () => number;

  constructor(options: { db: StoaDatabase; clock: () => number }) {
    this.#repo = new PushersRepository(options.db.kysely);
    this.#clock = options.clock;
  }

  get repository(): PushersRepository {
    return this.#repo;
  }

  async list(userId: string): Promise<JsonObject[]> {
    return (await this.#repo.forUser(userId)).map(pusherJson);
  }

  /** POST /pushers/set: create, replace, or (kind null) delete. */
  async set(userId: string, body: JsonObject): Promise<void> {
    const appId = requiredString(body, 'app_id');
    const pushkey = requiredString(body, 'pushkey');
    if (!('kind' in body)) throw missingParam('Missing parameters: kind');
    if ([...appId].length > MAX_APP_ID_CHARS) throw invalidParam(`app_id is at most ${MAX_APP_ID_CHARS} characters`);
    if (new TextEncoder().encode(pushkey).length > MAX_PUSHKEY_BYTES) throw invalidParam(`pushkey is at most ${MAX_PUSHKEY_BYTES} bytes`);
    const kind = body['kind'];
    if (kind === null) {
      await this.#repo.delete(userId, appId, pushkey);
      return;
    }
    if (typeof kind !== 'string') throw invalidParam('kind must be a string or null');
    if (kind !== 'http') throw invalidParam(`Unsupported pusher kind: ${kind}`);
    const missing = ['app_display_name', 'device_display_name', 'lang', 'data'].filter((k) => body[k] === undefined);
    if (missing.length > 0) throw missingParam(`Missing parameters: ${missing.join(', ')}`);
    const data = body['data'];
    if (!isJsonObject(data)) throw invalidParam('data must be an object');
    checkGatewayUrl(data['url']);
    const format = data['format'];
    if (format !== undefined && format !== 'event_id_only') throw invalidParam('data.format must be "event_id_only" when set');
    const profileTag = body['profile_tag'];
    if (profileTag !== undefined && typeof profileTag !== 'string') throw invalidParam('profile_tag must be a string');
    const append = body['append'];
    if (append !== undefined && typeof append !== 'boolean') throw invalidParam('append must be a boolean');
    await this.#repo.upsert(
      {
        userId,
        appId,
        pushkey,
        kind,
        appDisplayName: requiredString(body, 'app_display_name'),
        deviceDisplayName: requiredString(body, 'device_display_name'),
        profileTag: profileTag ?? null,
        lang: requiredString(body, 'lang'),
        data: JSON.stringify(data),
        pushkeyTs: this.#clock(),
      },
      append === true,
    );
  }
}

/**
 * The gateway URL must be absolute with the notify path. Plain `http` is accepted besides
 * the spec's `https` (as Synapse does): gateways on a private network or loopback.
 */
function checkGatewayUrl(value: JsonValue | undefined): void {
  if (typeof value !== 'string') throw missingParam('data.url is required for http pushers');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidParam('data.url is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidParam('data.url must be an https URL');
  if (url.pathname !== PUSH_GATEWAY_PATH) throw invalidParam(`data.url must have the path ${PUSH_GATEWAY_PATH}`);
}

function requiredString(body: JsonObject, key: string): string {
  const value = body[key];
  if (value === undefined) throw missingParam(`Missing parameters: ${key}`);
  if (typeof value !== 'string') throw new MatrixError(400, 'M_INVALID_PARAM', `${key} must be a string`);
  return value;
}

export function pusherJson(pusher: StoredPusher): JsonObject {
  const data = parseObject(pusher.data);
  const out: JsonObject = {
    pushkey: pusher.pushkey,
    kind: pusher.kind,
    app_id: pusher.appId,
    app_display_name: pusher.appDisplayName,
    device_display_name: pusher.deviceDisplayName,
    lang: pusher.lang,
    data,
  };
  if (pusher.profileTag !== null) out['profile_tag'] = pusher.profileTag;
  return out;
}

export function parseObject(text: string): JsonObject {
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : {};
  } catch {
    return {};
  }
}
