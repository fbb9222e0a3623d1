// The User-Interactive Authentication engine (client-server API § "User-Interactive
// Authentication API"), for any endpoint that needs it: registration, password change,
// deactivation, device deletion, and later cross-signing key upload.
//
//   const done = await requireUserInteractiveAuth(uia, {
//     operation: `DELETE /devices/${deviceId}`, flows: [['m.login.password']],
//     auth: body.auth, userId: requester.userId,
//   });
//
// It resolves once every stage of one flow is complete, and otherwise throws a UiaChallenge
// (HTTP 401 with `flows`, `params`, `session`, `completed`, and `errcode`/`error` after a
// failed attempt) or a plain MatrixError for a request that is wrong in itself.
//
// Sessions live in the database (a client's next attempt may reach another process). A
// session is bound to its operation (method, endpoint and the resources it names) and to
// its user, so stages completed for one request cannot authorise another. A completed
// session stays valid until it expires: the spec has a retried request that completed every
// stage get "the result of the API call", so endpoints must tolerate running twice (and
// registration records its result in the session, see `setSessionData`).

import { MatrixError, badJson, forbidden } from '../../http/matrix-error.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { UiaSessionsRepository, type StoredUiaSession, type UiaSessionData } from '../../storage/index.ts';
import { randomId } from './tokens.ts';

/** What a stage is told about the request it is authenticating. */
export interface UiaStageContext {
  /** The user the session is for (the requester, or a user an earlier stage proved); unset at registration. */
  readonly userId: string | undefined;
  /** What earlier stages recorded. */
  readonly data: UiaSessionData;
}

export type UiaStageOutcome =
  | {
      readonly ok: true;
      /** The user this stage proved the client to be (m.login.password). */
      readonly userId?: string;
      /** Recorded in the session for later stages and the endpoint. */
      readonly data?: Readonly<Record<string, JsonValue>>;
    }
  | { readonly ok: false; readonly error: MatrixError };

/** One authentication type (§ "Authentication types"). */
export interface UiaStage {
  readonly type: string;
  /** This type's entry in the challenge's `params`, if it has one. */
  params?(): JsonObject;
  /** Checks the `auth` dict the client submitted for this type. */
  attempt(auth: JsonObject, context: UiaStageContext): Promise<UiaStageOutcome>;
}

export interface UiaRequest {
  /**
   * What is being authorised, precise enough that a session cannot be reused for another
   * request: the method, the endpoint and the resources it acts on.
   */
  readonly operation: string;
  /** Each flow is the list of stage types that completes it. */
  readonly flows: ReadonlyArray<readonly string[]>;
  /** The request body's `auth` value, as sent (undefined when absent). */
  readonly auth: JsonValue | undefined;
  /** The authenticated requester, when the endpoint had an access token. */
  readonly userId?: string | undefined;
  /**
   * End the session once it authorises this request, so every request must be authenticated
   * afresh (POST /login/get_token: "servers MUST always re-prompt").
   */
  readonly singleUse?: boolean;
}

export interface UiaResult {
  readonly sessionId: string;
  /** The requester, or the user a password stage proved. */
  readonly userId: string | undefined;
  readonly completed: readonly string[];
  readonly data: UiaSessionData;
}

/** HTTP 401 with the UIA response body (§ "User-interactive API in the REST API"). */
export class UiaChallenge extends MatrixError {
  override name = 'UiaChallenge';
  readonly body: JsonObject;
  readonly failed: boolean;

  constructor(body: JsonObject, failure: MatrixError | undefined) {
    super(401, failure?.errcode ?? 'M_UNAUTHORIZED', failure?.message ?? 'Additional authentication is required');
    this.body = body;
    this.failed = failure !== undefined;
  }

  /** Without a failed attempt the body has no errcode: clients would show it as an error. */
  override toJson(): JsonObject {
    return this.failed ? { ...this.body, errcode: this.errcode, error: this.message } : this.body;
  }
}

export interface UserInteractiveAuthOptions {
  readonly db: StoaDatabase;
  readonly clock: () => number;
  readonly stages: readonly UiaStage[];
  /** How long a session lasts from its creation. Default 15 minutes. */
  readonly sessionLifetimeMs?: number;
}

const DEFAULT_SESSION_LIFETIME_MS = 15 * 60_000;
const CLEANUP_INTERVAL_MS = 60_000;

export class UserInteractiveAuth {
  readonly #sessions: UiaSessionsRepository;
  readonly #clock: () => number;
  readonly #stages: ReadonlyMap<string, UiaStage>;
  readonly #lifetimeMs: number;
  #lastCleanup = 0;

  constructor(options: UserInteractiveAuthOptions) {
    this.#sessions = new UiaSessionsRepository(options.db.kysely);
    this.#clock = options.clock;
    this.#stages = new Map(options.stages.map((stage) => [stage.type, stage]));
    this.#lifetimeMs = options.sessionLifetimeMs ?? DEFAULT_SESSION_LIFETIME_MS;
  }

  /** Resolves when a flow is complete; throws a UiaChallenge or MatrixError otherwise. */
  async require(request: UiaRequest): Promise<UiaResult> {
    for (const flow of request.flows) {
      for (const type of flow) {
        if (!this.#stages.has(type)) throw new Error(`UIA flow names ${type}, which has no stage`);
      }
    }
    const auth = request.auth;
    if (auth !== undefined && auth !== null && !isJsonObject(auth)) throw badJson('auth must be an object');
    const authDict = isJsonObject(auth) ? auth : undefined;

    const sessionField = authDict?.['session'];
    if (sessionField !== undefined && typeof sessionField !== 'string') throw badJson('auth.session must be a string');
    let session = sessionField === undefined ? await this.#create(request) : await this.#resume(sessionField, request);

    const typeField = authDict?.['type'];
    if (typeField !== undefined && typeof typeField !== 'string') throw badJson('auth.type must be a string');
    // Only a session key (no type): the client asks whether out-of-band stages are done.
    if (authDict !== undefined && typeField !== undefined && !session.completed.includes(typeField)) {
      session = await this.#attempt(session, request, typeField, authDict);
    }

    if (isComplete(request.flows, session.completed)) {
      if (request.singleUse === true) await this.#sessions.delete(session.sessionId);
      return { sessionId: session.sessionId, userId: session.userId ?? undefined, completed: session.completed, data: session.data };
    }
    throw this.#challenge(request, session, undefined);
  }

  /** What a live session has recorded; undefined for an unknown or expired session. */
  async sessionData(sessionId: string): Promise<UiaSessionData | undefined> {
    return (await this.#sessions.find(sessionId, this.#clock()))?.data;
  }

  /** The user a live session is for (null: not known yet); undefined for an unknown or expired session. */
  async sessionUser(sessionId: string): Promise<string | null | undefined> {
    return (await this.#sessions.find(sessionId, this.#clock()))?.userId;
  }

  /**
   * Completes an out-of-band stage (m.login.sso, finished in a browser through the fallback):
   * the client's next request with only the session then finds it done. False when the
   * session is unknown, expired, or not `userId`'s.
   */
  async completeOutOfBand(sessionId: string, type: string, userId: string): Promise<boolean> {
    const session = await this.#sessions.find(sessionId, this.#clock());
    if (session === undefined || session.userId !== userId) return false;
    if (!session.completed.includes(type)) {
      await this.#sessions.update(sessionId, { userId, completed: [...session.completed, type], data: session.data });
    }
    return true;
  }

  /** Records `value` under `key` in a session (e.g. what a completed registration produced). */
  async setSessionData(sessionId: string, key: string, value: JsonValue): Promise<void> {
    const session = await this.#sessions.find(sessionId, this.#clock());
    if (session === undefined) return;
    await this.#sessions.update(sessionId, { userId: session.userId, completed: session.completed, data: { ...session.data, [key]: value } });
  }

  async #attempt(session: StoredUiaSession, request: UiaRequest, type: string, auth: JsonObject): Promise<StoredUiaSession> {
    const offered = request.flows.some((flow) => flow.includes(type));
    const stage = this.#stages.get(type);
    if (!offered || stage === undefined) {
      throw this.#challenge(request, session, new MatrixError(400, 'M_UNRECOGNIZED', `Authentication type ${type} is not offered here`));
    }
    const outcome = await stage.attempt(auth, { userId: session.userId ?? undefined, data: session.data });
    if (!outcome.ok) throw this.#challenge(request, session, outcome.error);

    let userId = session.userId;
    if (outcome.userId !== undefined) {
      if (userId !== null && userId !== outcome.userId) {
        throw forbidden('The authenticated user does not match the user of this session');
      }
      userId = outcome.userId;
    }
    const updated: StoredUiaSession = {
      ...session,
      userId,
      completed: [...session.completed, type],
      data: { ...session.data, ...outcome.data },
    };
    await this.#sessions.update(session.sessionId, { userId: updated.userId, completed: updated.completed, data: updated.data });
    return updated;
  }

  async #create(request: UiaRequest): Promise<StoredUiaSession> {
    const now = this.#clock();
    if (now - this.#lastCleanup >= CLEANUP_INTERVAL_MS) {
      this.#lastCleanup = now;
      await this.#sessions.deleteExpired(now);
    }
    const session: StoredUiaSession = {
      sessionId: randomId(),
      operation: request.operation,
      userId: request.userId ?? null,
      completed: [],
      data: {},
      createdTs: now,
      expiresTs: now + this.#lifetimeMs,
    };
    await this.#sessions.insert(session);
    return session;
  }

  async #resume(sessionId: string, request: UiaRequest): Promise<StoredUiaSession> {
    const session = await this.#sessions.find(sessionId, this.#clock());
    // Synapse answers an unknown session the same way; clients then start over.
    if (session === undefined) throw new MatrixError(400, 'M_UNKNOWN', 'Unknown or expired UIA session');
    if (session.operation !== request.operation) {
      throw forbidden('The requested operation has changed during the user-interactive authentication session');
    }
    if (request.userId !== undefined && session.userId !== null && session.userId !== request.userId) {
      throw forbidden('The user-interactive authentication session belongs to another user');
    }
    return session;
  }

  #challenge(request: UiaRequest, session: StoredUiaSession, failure: MatrixError | undefined): UiaChallenge {
    const params: JsonObject = {};
    for (const type of new Set(request.flows.flat())) {
      const stageParams = this.#stages.get(type)?.params?.();
      if (stageParams !== undefined) params[type] = stageParams;
    }
    const body: JsonObject = {
      flows: request.flows.map((stages) => ({ stages: [...stages] })),
      params,
      session: session.sessionId,
    };
    if (session.completed.length > 0) body['completed'] = [...session.completed];
    return new UiaChallenge(body, failure);
  }
}

/** The engine's entry point for endpoints; see the file comment. */
export function requireUserInteractiveAuth(uia: UserInteractiveAuth, request: UiaRequest): Promise<UiaResult> {
  return uia.require(request);
}

function isComplete(flows: ReadonlyArray<readonly string[]>, completed: readonly string[]): boolean {
  return flows.some((flow) => flow.every((type) => completed.includes(type)));
}
