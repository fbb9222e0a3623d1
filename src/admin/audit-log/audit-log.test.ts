// The hash-chained admin audit log (issue 8 item 6) on every engine: appends chain, and an
// altered, removed or truncated entry is detected by `verify`.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeEngines } from '../../storage/testing.ts';
import { AUDIT_LOG_GENESIS, AuditLog, auditEntryHash } from './audit-log.ts';

describeEngines('admin audit log', (getDb) => {
  let log: AuditLog;
  let clock = 1_000;

  test('appends form a gapless chain from the genesis hash', async () => {
    log = new AuditLog(getDb(), () => clock++);
    const first = await log.append({ actor: 'cli:root', action: 'export-room', target: '!r:x', origin: 'cli@host', details: { events: 10 } });
    assert.equal(first.seq, 1);
    assert.equal(first.prevHash, AUDIT_LOG_GENESIS);
    assert.equal(first.hash, auditEntryHash(AUDIT_LOG_GENESIS, first));
    // Concurrent appends still get consecutive numbers and each names the one before.
    await Promise.all([2, 3, 4, 5].map((n) => log.append({ actor: '@admin:x', action: `action-${n}`, target: null, origin: '10.0.0.1' })));
    const entries = await log.read(0, 100);
    assert.deepEqual(entries.map((e) => e.seq), [1, 2, 3, 4, 5]);
    for (let i = 1; i < entries.length; i++) assert.equal(entries[i]?.prevHash, entries[i - 1]?.hash);
    const verdict = await log.verify();
    assert.equal(verdict.ok, true);
    assert.deepEqual(verdict.head, { seq: 5, hash: entries[4]?.hash });
  });

  test('an altered entry is named; a removed one leaves a gap and a broken link', async () => {
    const db = getDb().kysely;
    const original = await db.selectFrom('admin_audit_log').selectAll().where('seq', '=', 2).executeTakeFirstOrThrow();
    await db.updateTable('admin_audit_log').set({ actor: '@someone-else:x' }).where('seq', '=', 2).execute();
    const altered = await log.verify();
    assert.deepEqual(altered.problems.map((p) => p.seq), [2]);
    assert.match(altered.problems[0]?.message ?? '', /altered/);
    await db.updateTable('admin_audit_log').set({ details: '{"x":1.5}' }).where('seq', '=', 2).execute();
    assert.deepEqual((await log.verify()).problems.map((p) => p.seq), [2]);
    await db.updateTable('admin_audit_log').set({ actor: original.actor, details: original.details }).where('seq', '=', 2).execute();
    assert.equal((await log.verify()).ok, true);

    const head = (await log.verify()).head;
    await db.deleteFrom('admin_audit_log').where('seq', '=', 3).execute();
    const removed = await log.verify();
    assert.equal(removed.ok, false);
    assert.ok(removed.problems.every((p) => p.seq === 4));
    assert.match(removed.problems.map((p) => p.message).join(' '), /entries 3–3 are missing/);

    await db.deleteFrom('admin_audit_log').where('seq', '>=', 4).execute();
    assert.equal((await log.verify()).ok, true, 'a truncated tail is a valid shorter chain…');
    const truncated = await log.verify(head);
    assert.match(truncated.problems.at(-1)?.message ?? '', /truncated/, '…unless the head was recorded');
  });
});
