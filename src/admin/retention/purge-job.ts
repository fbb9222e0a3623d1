// The retention purge job (issue 8 item 3) and redaction pruning (item 4's "redaction
// pruning"): on a timer, or at once through the admin API.
//
// A purge removes an event's content, not the event: the row keeps its ID, hashes,
// signatures and DAG links and its stored JSON becomes the redacted form (the spec's
// redaction algorithm, client-server § "Redactions"), which its signatures still cover.
// So the room stays valid for every server, exports of it still verify (the verifier
// reports such events as stored in redacted form), and clients see the event as content-
// less. Each purged event is recorded in `purged_events` with the SHA-256 of what was
// removed, and each run that purged anything appends one entry to the audit log.
//
// Never purged: state events (the current state, and the earlier state the auth chain and
// state resolution rest on), the room's latest events, and anything under a legal hold —
// the hold is checked in the candidate query and again in the purge statement itself.
//
// After each room it changed, the job tells the roomserver to forget what it cached about
// the room, so no purged content is served from memory.

import { createHash } from 'node:crypto';
import type { RetentionConfig } from '../../config/types.ts';
import type { Logger } from '../../logger.ts';
import { isJsonObject } from '../../rooms/json.ts';
import { redactEvent } from '../../rooms/redaction.ts';
import { roomVersionRules } from '../../rooms/room-versions.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import { RetentionRepository, type PurgeCandidate, type PurgeRecord } from '../../storage/retention-repository.ts';
import type { AuditLog } from '../audit-log/audit-log.ts';
import { effectivePolicy, policyOfStateEvent, purgeCutoff } from './policy.ts';

/** The roomserver's caches (Roomserver.forgetRoom). */
export interface RetentionRoomCachePort {
  forgetRoom(roomId: string): void;
}

/** Deletes a local media item (the media service's admin delete). */
export interface RetentionMediaPort {
  delete(serverName: string, mediaId: string): Promise<boolean>;
}

export interface RetentionJobDeps {
  readonly db: StoaDatabase;
  readonly config: RetentionConfig;
  readonly serverName: string;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly media?: RetentionMediaPort;
  /** Unset only where no roomserver runs in the process (nothing is cached then). */
  readonly rooms?: RetentionRoomCachePort;
}

export interface PurgeRunSummary {
  readonly startedTs: number;
  /** Events whose content was purged because their lifetime ran out, per room. */
  readonly expired: Readonly<Record<string, number>>;
  readonly expiredTotal: number;
  /** Redacted events whose original content was pruned. */
  readonly redactionsPruned: number;
  /** Local media deleted because only purged events named it (`mxc://` URIs). */
  readonly mediaDeleted: readonly string[];
}

const BATCH = 500;
export const RETENTION_ACTOR = 'system:retention';

export class RetentionJob {
  readonly #deps: RetentionJobDeps;
  readonly #repository: RetentionRepository;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<PurgeRunSummary> | undefined;
  #closed = false;

  constructor(deps: RetentionJobDeps) {
    this.#deps = deps;
    this.#repository = new RetentionRepository(deps.db);
  }

  /** Runs now and then every `purge_interval_ms`, when retention is enabled. */
  start(): void {
    if (!this.#deps.config.enabled || this.#timer !== undefined) return;
    const tick = (): void => {
      this.run().catch((error: unknown) => this.#deps.logger.error({ err: error }, 'retention purge failed'));
    };
    this.#timer = setInterval(tick, this.#deps.config.purge_interval_ms);
    this.#timer.unref();
    tick();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** One run; concurrent callers share the run in progress. */
  run(): Promise<PurgeRunSummary> {
    this.#running ??= this.#runOnce().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #runOnce(): Promise<PurgeRunSummary> {
    const { config, clock } = this.#deps;
    const startedTs = clock();
    const expired: Record<string, number> = {};
    let expiredTotal = 0;
    const media = new Set<string>();
    for (const room of await this.#repository.roomPolicies()) {
      if (this.#closed) break;
      const cutoff = purgeCutoff(effectivePolicy(policyOfStateEvent(room.retentionJson), config), startedTs);
      if (cutoff === undefined) continue;
      for (;;) {
        const candidates = await this.#repository.expiredEvents(room.roomId, cutoff, BATCH);
        const purged = await this.#purge(candidates, 'retention', media);
        if (purged > 0) {
          expired[room.roomId] = (expired[room.roomId] ?? 0) + purged;
          expiredTotal += purged;
        }
        // Fewer purged than chosen: the rest went under hold meanwhile; next run sees them.
        if (candidates.length < BATCH || purged < candidates.length || this.#closed) break;
      }
    }
    let redactionsPruned = 0;
    if (config.redaction_retention_period_ms !== null) {
      const before = startedTs - config.redaction_retention_period_ms;
      for (;;) {
        const candidates = await this.#repository.prunableRedacted(before, BATCH);
        const purged = await this.#purge(candidates, 'redaction', media);
        redactionsPruned += purged;
        if (candidates.length < BATCH || purged < candidates.length || this.#closed) break;
      }
    }
    const mediaDeleted = await this.#deleteUnreferencedMedia(media);
    const summary: PurgeRunSummary = { startedTs, expired, expiredTotal, redactionsPruned, mediaDeleted };
    if (expiredTotal > 0 || redactionsPruned > 0 || mediaDeleted.length > 0) {
      await this.#deps.audit.append({
        actor: RETENTION_ACTOR,
        action: 'retention-purge',
        target: null,
        origin: 'server',
        details: { expired_events: expiredTotal, rooms: expired, redactions_pruned: redactionsPruned, media_deleted: [...mediaDeleted] },
      });
      this.#deps.logger.info({ expired_events: expiredTotal, redactions_pruned: redactionsPruned, media_deleted: mediaDeleted.length }, 'retention purge');
    }
    return summary;
  }

  async #purge(candidates: readonly PurgeCandidate[], reason: 'retention' | 'redaction', media: Set<string>): Promise<number> {
    const records: PurgeRecord[] = [];
    for (const candidate of candidates) {
      const record = purgeRecordOf(candidate);
      if (record === undefined) continue;
      records.push(record);
    }
    const purged = new Set(await this.#repository.purge(records, reason, this.#deps.clock()));
    const rooms = new Set<string>();
    for (const candidate of candidates) {
      if (!purged.has(candidate.eventId)) continue;
      rooms.add(candidate.roomId);
      for (const uri of localMediaUris(candidate.json, this.#deps.serverName)) media.add(uri);
    }
    // Right after the commit, before the next batch (redaction pruning's batches span rooms).
    for (const roomId of rooms) this.#deps.rooms?.forgetRoom(roomId);
    return purged.size;
  }

  async #deleteUnreferencedMedia(uris: ReadonlySet<string>): Promise<string[]> {
    const port = this.#deps.media;
    if (port === undefined || !this.#deps.config.delete_media) return [];
    const deleted: string[] = [];
    for (const uri of [...uris].sort()) {
      if (await this.#repository.mediaStillReferenced(uri)) continue;
      const mediaId = uri.slice(`mxc://${this.#deps.serverName}/`.length);
      if (await port.delete(this.#deps.serverName, mediaId)) deleted.push(uri);
    }
    return deleted;
  }
}

/** The redacted form to store in place of the event, or undefined when it cannot be computed. */
export function purgeRecordOf(candidate: PurgeCandidate): PurgeRecord | undefined {
  const rules = roomVersionRules(candidate.roomVersion);
  if (rules === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(candidate.json);
  } catch {
    return undefined;
  }
  if (!isJsonObject(parsed)) return undefined;
  return {
    eventId: candidate.eventId,
    roomId: candidate.roomId,
    json: JSON.stringify(redactEvent(parsed, rules)),
    originalSha256: createHash('sha256').update(candidate.json).digest('hex'),
  };
}

/** `mxc://<our server>/<id>` URIs in an event's JSON. */
export function localMediaUris(json: string, serverName: string): string[] {
  const found = new Set<string>();
  const prefix = `mxc://${serverName}/`;
  for (const match of json.matchAll(/mxc:\/\/[^/"\s\\]+\/[A-Za-z0-9_-]+/g)) {
    if (match[0].startsWith(prefix)) found.add(match[0]);
  }
  return [...found];
}
