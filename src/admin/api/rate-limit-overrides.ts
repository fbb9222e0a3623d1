// Per-user rate-limit overrides (Synapse's user_admin_api.md § "Override ratelimiting for
// users"):
//   GET    /_synapse/admin/v1/users/{userId}/override_ratelimit   → {messages_per_second, burst_count} or {}
//   POST   /_synapse/admin/v1/users/{userId}/override_ratelimit   {messages_per_second?, burst_count?}
//   DELETE /_synapse/admin/v1/users/{userId}/override_ratelimit
//
// An override replaces the `message` bucket's limits for that user; `messages_per_second: 0`
// exempts the user (a bot, a bridge). The HTTP layer's limiter is wrapped so the override is
// looked up synchronously: overrides live in memory, loaded at start-up, changed here at
// once, and re-read every minute so other processes sharing the database follow.

import { jsonBody, type Endpoint, type RateLimiter } from '../../http/define-endpoint.ts';
import { notFound } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import type { AdminRepository } from '../../storage/admin-repository.ts';
import type { Cluster } from '../../storage/cluster/cluster.ts';
import type { AdminAccess } from './access.ts';
import { localUserParam } from './params.ts';

/** The bucket overrides apply to (the client API's message sends). */
export const OVERRIDDEN_BUCKET = 'message';
const REFRESH_MS = 60_000;
/** The cluster channel on which a process says it changed the overrides. */
const CHANGED_CHANNEL = 'rate-limit-overrides';

export interface RateLimitOverride {
  readonly messagesPerSecond: number;
  readonly burstCount: number;
}

/** Makes a limiter for one user's override (main.ts gives the client API's token buckets). */
export type OverrideLimiterFactory = (limits: { perSecond: number; burst: number }) => RateLimiter;

export class RateLimitOverrides {
  readonly #repository: AdminRepository;
  readonly #factory: OverrideLimiterFactory;
  readonly #logger: Logger;
  #overrides = new Map<string, { override: RateLimitOverride; limiter: RateLimiter | undefined }>();
  #timer: NodeJS.Timeout | undefined;
  readonly #cluster: Cluster | undefined;

  constructor(deps: { repository: AdminRepository; factory: OverrideLimiterFactory; logger: Logger; cluster?: Cluster }) {
    this.#repository = deps.repository;
    this.#factory = deps.factory;
    this.#logger = deps.logger;
    this.#cluster = deps.cluster;
  }

  async start(): Promise<void> {
    await this.#reload();
    const reload = () => {
      this.#reload().catch((err: unknown) => this.#logger.warn({ err }, 'could not reload rate-limit overrides'));
    };
    // Another process sharing the database changed one: re-read now, not at the next minute.
    this.#cluster?.onAttachment(CHANGED_CHANNEL, reload);
    this.#timer = setInterval(reload, REFRESH_MS);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  get(userId: string): RateLimitOverride | undefined {
    return this.#overrides.get(userId)?.override;
  }

  async set(userId: string, override: RateLimitOverride): Promise<void> {
    await this.#repository.setRateLimitOverride(userId, override.messagesPerSecond, override.burstCount);
    this.#put(userId, override);
    this.#cluster?.attach(CHANGED_CHANNEL, userId);
  }

  async delete(userId: string): Promise<void> {
    await this.#repository.deleteRateLimitOverride(userId);
    this.#overrides.delete(userId);
    this.#cluster?.attach(CHANGED_CHANNEL, userId);
  }

  /** `inner`, with the `message` bucket of overridden users limited by their override. */
  wrap(inner: RateLimiter): RateLimiter {
    return {
      consume: (bucket, key) => {
        if (bucket === OVERRIDDEN_BUCKET && key.startsWith('user:')) {
          const entry = this.#overrides.get(key.slice('user:'.length));
          if (entry !== undefined) return entry.limiter?.consume(bucket, key) ?? 0;
        }
        return inner.consume(bucket, key);
      },
    };
  }

  #put(userId: string, override: RateLimitOverride): void {
    const current = this.#overrides.get(userId);
    // Keep the user's bucket when the limits did not change (a reload must not refill it).
    if (current !== undefined && current.override.messagesPerSecond === override.messagesPerSecond && current.override.burstCount === override.burstCount) return;
    const limiter =
      override.messagesPerSecond === 0
        ? undefined
        : this.#factory({ perSecond: override.messagesPerSecond, burst: Math.max(1, override.burstCount) });
    this.#overrides.set(userId, { override, limiter });
  }

  async #reload(): Promise<void> {
    const rows = await this.#repository.rateLimitOverrides();
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.userId);
      this.#put(row.userId, { messagesPerSecond: row.messagesPerSecond, burstCount: row.burstCount });
    }
    for (const userId of this.#overrides.keys()) if (!seen.has(userId)) this.#overrides.delete(userId);
  }
}

const OVERRIDE_BODY = jsonBody<{ messages_per_second?: number; burst_count?: number }>({
  type: 'object',
  properties: {
    messages_per_second: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 },
    burst_count: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 },
  },
});

export function rateLimitOverrideEndpoints(deps: {
  access: AdminAccess;
  repository: AdminRepository;
  overrides: RateLimitOverrides;
  serverName: string;
}): Endpoint[] {
  const { access, repository, overrides, serverName } = deps;
  const existingUser = async (params: Readonly<Record<string, string>>): Promise<string> => {
    const userId = localUserParam(params['userId'], serverName);
    if ((await repository.findUser(userId)) === undefined) throw notFound('User not found');
    return userId;
  };
  const path = '/_synapse/admin/v1/users/:userId/override_ratelimit';
  const target = ({ params }: { params: Readonly<Record<string, string>> }): string | null => params['userId'] ?? null;
  return [
    access.endpoint({
      method: 'GET',
      path,
      access: 'read',
      action: 'query-ratelimit-override',
      target,
      handler: async ({ params }) => {
        const override = overrides.get(await existingUser(params));
        return override === undefined ? {} : { messages_per_second: override.messagesPerSecond, burst_count: override.burstCount };
      },
    }),
    access.endpoint({
      method: 'POST',
      path,
      access: 'admin',
      body: OVERRIDE_BODY,
      action: 'set-ratelimit-override',
      target,
      details: ({ body }) => ({ messages_per_second: body.messages_per_second ?? 0, burst_count: body.burst_count ?? 0 }),
      handler: async ({ params, body }) => {
        const userId = await existingUser(params);
        const override = { messagesPerSecond: body.messages_per_second ?? 0, burstCount: body.burst_count ?? 0 };
        await overrides.set(userId, override);
        return { messages_per_second: override.messagesPerSecond, burst_count: override.burstCount };
      },
    }),
    access.endpoint({
      method: 'DELETE',
      path,
      access: 'admin',
      action: 'delete-ratelimit-override',
      target,
      handler: async ({ params }) => {
        await overrides.delete(await existingUser(params));
        return {};
      },
    }),
  ];
}
