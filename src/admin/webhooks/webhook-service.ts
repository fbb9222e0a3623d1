// Incoming webhooks (issue 10 item 3): an admin binds a webhook to a room and a local
// sender; a business system posts text with the webhook's secret and the message appears
// in the room as the sender.
//
// - The secret is shown once, at creation, and stored only as its SHA-256 (a high-entropy
//   random secret needs no slow hash); checks compare digests in constant time, and an
//   unknown webhook costs the same comparison as a wrong secret.
// - Messages go through the roomserver's normal send path, so the room's auth rules apply:
//   a sender who left the room or lacks the power to post cannot post through a webhook.
// - Revocation is immediate and final; a revoked webhook keeps its row for the record.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { forbidden, MatrixError, notFound, unauthorized } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import { AccountsRepository } from '../../storage/accounts-repository.ts';
import { WebhooksRepository, type StoredWebhook } from '../../storage/webhooks-repository.ts';
import { withRoomErrors } from '../api/room-errors.ts';

/** What a post asks to send. */
export interface WebhookMessage {
  readonly text: string;
  readonly html?: string;
  readonly msgtype: 'm.text' | 'm.notice' | 'm.emote';
}

export interface WebhookServiceDeps {
  readonly db: StoaDatabase;
  readonly roomserver: Pick<Roomserver, 'roomVersion' | 'sendEvent'>;
  readonly serverName: string;
  readonly clock: () => number;
}

const DUMMY_HASH = sha256Hex('stoa-webhook-unknown');

export class WebhookService {
  readonly #repository: WebhooksRepository;
  readonly #accounts: AccountsRepository;
  readonly #roomserver: WebhookServiceDeps['roomserver'];
  readonly #serverName: string;
  readonly #clock: () => number;

  constructor(deps: WebhookServiceDeps) {
    this.#repository = new WebhooksRepository(deps.db);
    this.#accounts = new AccountsRepository(deps.db.kysely);
    this.#roomserver = deps.roomserver;
    this.#serverName = deps.serverName;
    this.#clock = deps.clock;
  }

  /** Creates a webhook; the secret is returned here and never again. */
  async create(input: { roomId: string; sender: string; name: string; createdBy: string }): Promise<{ webhook: StoredWebhook; secret: string }> {
    if (!input.sender.startsWith('@') || !input.sender.endsWith(`:${this.#serverName}`)) {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'The sender must be a user of this server');
    }
    const sender = await this.#accounts.findUser(input.sender);
    if (sender === undefined) throw notFound('The sender does not exist');
    if (sender.deactivated) throw new MatrixError(400, 'M_INVALID_PARAM', 'The sender is deactivated');
    if ((await this.#roomserver.roomVersion(input.roomId)) === undefined) throw notFound('Unknown room');
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const webhook = {
      webhookId: `wh_${randomBytes(12).toString('base64url')}`,
      roomId: input.roomId,
      sender: input.sender,
      name: input.name,
      secretHash: sha256Hex(secret),
      createdBy: input.createdBy,
      createdTs: this.#clock(),
    };
    await this.#repository.insert(webhook);
    return { webhook: { ...webhook, revokedTs: null, lastUsedTs: null }, secret };
  }

  list(includeRevoked: boolean): Promise<StoredWebhook[]> {
    return this.#repository.list(includeRevoked);
  }

  find(webhookId: string): Promise<StoredWebhook | undefined> {
    return this.#repository.find(webhookId);
  }

  revoke(webhookId: string): Promise<boolean> {
    return this.#repository.revoke(webhookId, this.#clock());
  }

  /**
   * The webhook `secret` opens. 401 M_UNAUTHORIZED for an unknown webhook or a wrong secret
   * (indistinguishable to the caller), 403 M_FORBIDDEN for a revoked one.
   */
  async authenticate(webhookId: string, secret: string | undefined): Promise<StoredWebhook> {
    const webhook = await this.#repository.find(webhookId);
    const presented = Buffer.from(sha256Hex(secret ?? ''), 'hex');
    const expected = Buffer.from(webhook?.secretHash ?? DUMMY_HASH, 'hex');
    const matches = presented.length === expected.length && timingSafeEqual(presented, expected);
    if (webhook === undefined || secret === undefined || !matches) throw unauthorized('Unknown webhook or wrong secret');
    if (webhook.revokedTs !== null) throw forbidden('This webhook has been revoked');
    return webhook;
  }

  /** Sends the message into the webhook's room as its sender; returns the event ID. */
  async post(webhook: StoredWebhook, message: WebhookMessage): Promise<string> {
    const sender = await this.#accounts.findUser(webhook.sender);
    if (sender === undefined || sender.deactivated) throw forbidden("The webhook's sender is deactivated");
    const content: JsonObject = { msgtype: message.msgtype, body: message.text };
    if (message.html !== undefined) {
      content['format'] = 'org.matrix.custom.html';
      content['formatted_body'] = message.html;
    }
    const sent = await withRoomErrors(() =>
      this.#roomserver.sendEvent({ roomId: webhook.roomId, sender: webhook.sender, type: 'm.room.message', content }),
    );
    await this.#repository.recordUse(webhook.webhookId, this.#clock());
    return sent.eventId;
  }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
