// Checks on relations a local client sends (PUT /rooms/{roomId}/send/...):
// - § "Event annotations" › "Avoiding duplicate annotations": a second annotation of the
//   same event with the same type and key by the same user → 400 M_DUPLICATE_ANNOTATION;
// - § "Threading" › "Validation of m.thread relationships": a thread may not start from an
//   event that itself has an `m.relates_to` → 400 M_UNKNOWN.
// Edits need no check here: an invalid `m.replace` is sent like any event and ignored by
// the aggregation (§ "Validity of replacement events").

import { MatrixError } from '../../http/matrix-error.ts';
import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { RelationIndexer } from './relation-indexer.ts';
import { relationOf } from './relation-of.ts';

export class RelationSendGuard {
  readonly #indexer: RelationIndexer;
  readonly #roomserver: Roomserver;

  constructor(options: { indexer: RelationIndexer; roomserver: Roomserver }) {
    this.#indexer = options.indexer;
    this.#roomserver = options.roomserver;
  }

  async check(roomId: string, sender: string, type: string, content: JsonObject): Promise<void> {
    const relation = relationOf({ content });
    if (relation === undefined) return;
    if (relation.relType === 'm.annotation' && relation.key !== undefined) {
      await this.#indexer.catchUp();
      if (await this.#indexer.repository.hasAnnotation(relation.eventId, sender, type, relation.key)) {
        throw new MatrixError(400, 'M_DUPLICATE_ANNOTATION', 'You have already sent this annotation');
      }
    }
    if (relation.relType === 'm.thread') {
      const root = await this.#roomserver.event(relation.eventId);
      const rootContent = root === undefined || root.roomId !== roomId ? undefined : getField(root.json, 'content');
      if (isJsonObject(rootContent) && getField(rootContent, 'm.relates_to') !== undefined) {
        throw new MatrixError(400, 'M_UNKNOWN', 'Cannot start a thread from an event with a relation');
      }
    }
  }
}
