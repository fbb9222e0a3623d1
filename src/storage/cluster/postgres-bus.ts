// The cluster's bus on PostgreSQL: LISTEN/NOTIFY on one channel of the database, over one
// dedicated connection (outside the pool: a pooled connection cannot stay listening). The
// same connection publishes, so this process's own messages keep their order.

import pg from 'pg';
import type { ClusterBus, ClusterLogger } from './cluster.ts';

export const CLUSTER_CHANNEL = 'stoa_cluster';

export class PostgresBus implements ClusterBus {
  readonly #url: string;
  readonly #logger: ClusterLogger;
  #client: pg.Client | undefined;
  #handler: ((payload: string) => void) | undefined;
  #onReconnect: (() => void) | undefined;
  #closed = false;
  #reconnecting = false;

  constructor(url: string, logger: ClusterLogger) {
    this.#url = url;
    this.#logger = logger;
  }

  async listen(handler: (payload: string) => void, onReconnect: () => void): Promise<void> {
    this.#handler = handler;
    this.#onReconnect = onReconnect;
    await this.#connect();
  }

  async publish(payload: string): Promise<void> {
    const client = this.#client;
    if (client === undefined) throw new Error('the cluster bus is not connected');
    await client.query('select pg_notify($1, $2)', [CLUSTER_CHANNEL, payload]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, application_name: 'stoa-cluster' });
    client.on('notification', (message) => {
      if (message.channel === CLUSTER_CHANNEL && message.payload !== undefined) this.#handler?.(message.payload);
    });
    client.on('error', (err) => {
      this.#logger.warn({ err }, 'cluster bus connection lost');
      if (this.#client === client) this.#client = undefined;
      void client.end().catch(() => undefined);
      void this.#reconnect();
    });
    await client.connect();
    await client.query(`listen ${CLUSTER_CHANNEL}`);
    this.#client = client;
  }

  async #reconnect(): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    let delay = 100;
    while (!this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      try {
        await this.#connect();
        this.#logger.info({}, 'cluster bus reconnected');
        this.#onReconnect?.();
        break;
      } catch {
        delay = Math.min(delay * 2, 5000);
      }
    }
    this.#reconnecting = false;
  }
}
