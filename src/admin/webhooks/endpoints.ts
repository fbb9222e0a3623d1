// Webhook endpoints (issue 10 item 3).
//
// Administration (admins; the list is readable by the compliance role too):
//   POST   /_stoa/admin/v1/webhooks              {room_id, sender, name} → the webhook + `secret` (once)
//   GET    /_stoa/admin/v1/webhooks              (include_revoked=true)
//   GET    /_stoa/admin/v1/webhooks/{webhookId}
//   DELETE /_stoa/admin/v1/webhooks/{webhookId}  revoke
// Posting (the business system; the secret is the only credential):
//   POST   /_stoa/hooks/v1/{webhookId}           `Authorization: Bearer <secret>` (or `?secret=`)
//          application/json {text, html?, msgtype?} or a text/plain body → {event_id}
//
// Posts are rate limited per webhook, and failed attempts per client address. Each post is
// logged with the webhook, room and event, never the secret (the request log records the
// path without the query string, so a `?secret=` does not reach the logs either).

import { defineEndpoint, jsonBody, type Endpoint, type RateLimiter } from '../../http/define-endpoint.ts';
import { badJson, invalidParam, isMatrixError, limitExceeded, notFound, notJson } from '../../http/matrix-error.ts';
import { parseJsonObjectBody, readRequestBody } from '../../http/request-body.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { StoredWebhook } from '../../storage/webhooks-repository.ts';
import { originOf, type AdminAccess } from '../api/access.ts';
import { boolParam } from '../api/params.ts';
import type { WebhookMessage, WebhookService } from './webhook-service.ts';

export const WEBHOOK_BUCKET = 'webhook';
export const WEBHOOK_FAILED_BUCKET = 'webhook_failed';

const MSGTYPES = ['m.text', 'm.notice', 'm.emote'] as const;

export interface WebhookEndpointsDeps {
  readonly access: AdminAccess;
  readonly service: WebhookService;
  /** Buckets WEBHOOK_BUCKET (per webhook) and WEBHOOK_FAILED_BUCKET (per address); unset: unlimited. */
  readonly rateLimiter: RateLimiter | undefined;
  readonly maxBodyBytes: number;
}

const CREATE_BODY = jsonBody<{ room_id: string; sender: string; name: string }>({
  type: 'object',
  required: ['room_id', 'sender', 'name'],
  properties: {
    room_id: { type: 'string', pattern: '^!', maxLength: 255 },
    sender: { type: 'string', pattern: '^@', maxLength: 255 },
    name: { type: 'string', minLength: 1, maxLength: 255 },
  },
});

export function webhookEndpoints(deps: WebhookEndpointsDeps): Endpoint[] {
  const { access, service, rateLimiter } = deps;

  return [
    access.endpoint({
      method: 'POST',
      path: '/_stoa/admin/v1/webhooks',
      access: 'admin',
      body: CREATE_BODY,
      handler: async ({ body, auth }, call) => {
        const { webhook, secret } = await service.create({ roomId: body.room_id, sender: body.sender, name: body.name, createdBy: auth.userId });
        await call.audit('create-webhook', webhook.webhookId, { room_id: webhook.roomId, sender: webhook.sender, name: webhook.name });
        return { ...webhookJson(webhook), secret, url: `/_stoa/hooks/v1/${webhook.webhookId}` };
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_stoa/admin/v1/webhooks',
      access: 'read',
      action: 'list-webhooks',
      handler: async ({ query }) => ({ webhooks: (await service.list(boolParam(query, 'include_revoked', false))).map(webhookJson) }),
    }),

    access.endpoint({
      method: 'GET',
      path: '/_stoa/admin/v1/webhooks/:webhookId',
      access: 'read',
      action: 'query-webhook',
      target: ({ params }) => params['webhookId'] ?? null,
      handler: async ({ params }) => {
        const webhook = await service.find(params['webhookId'] ?? '');
        if (webhook === undefined) throw notFound('Unknown webhook');
        return webhookJson(webhook);
      },
    }),

    access.endpoint({
      method: 'DELETE',
      path: '/_stoa/admin/v1/webhooks/:webhookId',
      access: 'admin',
      action: 'revoke-webhook',
      target: ({ params }) => params['webhookId'] ?? null,
      handler: async ({ params }) => {
        if (!(await service.revoke(params['webhookId'] ?? ''))) throw notFound('Unknown or already revoked webhook');
        return {};
      },
    }),

    defineEndpoint({
      method: 'POST',
      path: '/_stoa/hooks/v1/:webhookId',
      auth: 'none',
      handler: async (request) => {
        const { ctx, params, query, log } = request;
        const webhookId = params['webhookId'] ?? '';
        const address = originOf(request);
        let webhook: StoredWebhook;
        try {
          webhook = await service.authenticate(webhookId, secretOf(ctx.get('Authorization'), query));
        } catch (error) {
          log.warn({ webhook_id: webhookId, ip: address, reason: isMatrixError(error) ? error.errcode : 'error' }, 'webhook post refused');
          const waitMs = rateLimiter?.consume(WEBHOOK_FAILED_BUCKET, address) ?? 0;
          if (waitMs > 0) throw limitExceeded(waitMs);
          throw error;
        }
        const waitMs = rateLimiter?.consume(WEBHOOK_BUCKET, webhook.webhookId) ?? 0;
        if (waitMs > 0) {
          log.warn({ webhook_id: webhook.webhookId }, 'webhook post rate limited');
          throw limitExceeded(waitMs);
        }
        const bytes = await readRequestBody(ctx.req, deps.maxBodyBytes);
        const message = parseMessage(ctx.request.type, bytes);
        const eventId = await service.post(webhook, message);
        log.info(
          { webhook_id: webhook.webhookId, room_id: webhook.roomId, sender: webhook.sender, event_id: eventId, msgtype: message.msgtype, bytes: bytes.length },
          'webhook post',
        );
        return { event_id: eventId };
      },
    }),
  ];
}

/** `Authorization: Bearer <secret>`, else `?secret=`. */
function secretOf(authorization: string, query: URLSearchParams): string | undefined {
  if (authorization !== '') return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  const fromQuery = query.get('secret');
  return fromQuery === null || fromQuery === '' ? undefined : fromQuery;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseMessage(contentType: string, bytes: Uint8Array): WebhookMessage {
  if (contentType === 'application/json') {
    const body = parseJsonObjectBody(bytes).value;
    const text = body['text'];
    const html = body['html'];
    const msgtype = body['msgtype'] ?? 'm.text';
    if (text !== undefined && typeof text !== 'string') throw badJson('"text" must be a string');
    if (html !== undefined && typeof html !== 'string') throw badJson('"html" must be a string');
    if (typeof msgtype !== 'string' || !(MSGTYPES as readonly string[]).includes(msgtype)) {
      throw badJson(`"msgtype" must be one of ${MSGTYPES.join(', ')}`);
    }
    if (text?.includes('\u0000') === true || html?.includes('\u0000') === true) throw badJson('The message may not contain U+0000');
    const plain = text ?? (html === undefined ? '' : htmlToText(html));
    if (plain.trim() === '') throw badJson('The message needs a non-empty "text" (or "html")');
    return { text: plain, msgtype: msgtype as WebhookMessage['msgtype'], ...(html === undefined ? {} : { html }) };
  }
  if (contentType === '' || contentType.startsWith('text/')) {
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw invalidParam('The body is not valid UTF-8');
    }
    if (text.trim() === '') throw badJson('The message is empty');
    if (text.includes('\u0000')) throw badJson('The message may not contain U+0000');
    return { text, msgtype: 'm.text' };
  }
  throw notJson('Send application/json or text/plain');
}

/** A plain-text fallback for an HTML-only post: tags dropped, common entities decoded. */
function htmlToText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

function webhookJson(webhook: StoredWebhook): JsonObject {
  return {
    webhook_id: webhook.webhookId,
    room_id: webhook.roomId,
    sender: webhook.sender,
    name: webhook.name,
    created_by: webhook.createdBy,
    created_ts: webhook.createdTs,
    revoked_ts: webhook.revokedTs,
    last_used_ts: webhook.lastUsedTs,
  };
}
