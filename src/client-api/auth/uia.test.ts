// client-server API § "User-Interactive Authentication API": the engine on a real database.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MatrixError } from '../../http/matrix-error.ts';
import { describeEngines } from '../../storage/testing.ts';
import { UiaChallenge, UserInteractiveAuth, type UiaStage } from './uia.ts';
import { dummyStage } from './uia-stages.ts';

/** A stand-in password stage: "secret" proves the user named in `user`. */
const fakePassword: UiaStage = {
  type: 'm.login.password',
  attempt: async (auth, context) => {
    if (auth['password'] !== 'secret') return { ok: false, error: new MatrixError(403, 'M_FORBIDDEN', 'Invalid password') };
    const user = String(auth['user']);
    if (context.userId !== undefined && context.userId !== user) return { ok: false, error: new MatrixError(403, 'M_FORBIDDEN', 'Wrong user') };
    return { ok: true, userId: user };
  },
};
const fakeEmail: UiaStage = { type: 'm.login.email.identity', params: () => ({ hint: 'check your inbox' }), attempt: async () => ({ ok: true }) };

async function challengeOf(promise: Promise<unknown>): Promise<UiaChallenge> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UiaChallenge) return error;
    throw error;
  }
  assert.fail('expected a UIA challenge');
}

describeEngines('user-interactive auth', (getDb) => {
  let now = 1_000_000;
  const engine = () =>
    new UserInteractiveAuth({ db: getDb(), clock: () => now, stages: [dummyStage, fakePassword, fakeEmail], sessionLifetimeMs: 60_000 });

  test('a request without auth gets 401 with flows, params and a session, and no errcode', async () => {
    const challenge = await challengeOf(engine().require({ operation: 'op', flows: [['m.login.dummy']], auth: undefined }));
    assert.equal(challenge.status, 401);
    const body = challenge.toJson();
    assert.deepEqual(body['flows'], [{ stages: ['m.login.dummy'] }]);
    assert.deepEqual(body['params'], {});
    assert.equal(typeof body['session'], 'string');
    assert.equal(body['errcode'], undefined);
    assert.equal(body['completed'], undefined);
  });

  test('params carry each offered stage\'s parameters', async () => {
    const challenge = await challengeOf(
      engine().require({ operation: 'op', flows: [['m.login.email.identity', 'm.login.dummy']], auth: undefined }),
    );
    assert.deepEqual(challenge.toJson()['params'], { 'm.login.email.identity': { hint: 'check your inbox' } });
  });

  test('completing the only stage of a flow authorises the request', async () => {
    const uia = engine();
    const first = await challengeOf(uia.require({ operation: 'op', flows: [['m.login.dummy']], auth: undefined }));
    const session = String(first.toJson()['session']);
    const done = await uia.require({ operation: 'op', flows: [['m.login.dummy']], auth: { type: 'm.login.dummy', session } });
    assert.equal(done.sessionId, session);
    assert.deepEqual(done.completed, ['m.login.dummy']);
  });

  test('a multi-stage flow reports completed stages until the last one', async () => {
    const uia = engine();
    const flows = [['m.login.password', 'm.login.email.identity']];
    const partial = await challengeOf(uia.require({ operation: 'op', flows, auth: { type: 'm.login.password', user: '@a:x', password: 'secret' } }));
    const body = partial.toJson();
    assert.deepEqual(body['completed'], ['m.login.password']);
    assert.equal(body['errcode'], undefined);
    const done = await uia.require({ operation: 'op', flows, auth: { type: 'm.login.email.identity', session: String(body['session']) } });
    assert.equal(done.userId, '@a:x');
    assert.deepEqual(done.completed, ['m.login.password', 'm.login.email.identity']);
  });

  test('a failed attempt is 401 with the errcode and the same session; a retry may succeed', async () => {
    const uia = engine();
    const failed = await challengeOf(uia.require({ operation: 'op', flows: [['m.login.password']], auth: { type: 'm.login.password', user: '@a:x', password: 'nope' } }));
    const body = failed.toJson();
    assert.equal(failed.status, 401);
    assert.equal(body['errcode'], 'M_FORBIDDEN');
    assert.deepEqual(body['flows'], [{ stages: ['m.login.password'] }]);
    const done = await uia.require({
      operation: 'op',
      flows: [['m.login.password']],
      auth: { type: 'm.login.password', user: '@a:x', password: 'secret', session: String(body['session']) },
    });
    assert.equal(done.userId, '@a:x');
  });

  test('a session cannot authorise another operation or another user', async () => {
    const uia = engine();
    const first = await challengeOf(uia.require({ operation: 'delete A', flows: [['m.login.dummy']], auth: undefined, userId: '@a:x' }));
    const session = String(first.toJson()['session']);
    await assert.rejects(
      uia.require({ operation: 'delete B', flows: [['m.login.dummy']], auth: { type: 'm.login.dummy', session }, userId: '@a:x' }),
      (error: unknown) => error instanceof MatrixError && error.status === 403 && !(error instanceof UiaChallenge),
    );
    await assert.rejects(
      uia.require({ operation: 'delete A', flows: [['m.login.dummy']], auth: { type: 'm.login.dummy', session }, userId: '@b:x' }),
      (error: unknown) => error instanceof MatrixError && error.status === 403,
    );
  });

  test('a password stage for another user than the requester fails', async () => {
    const challenge = await challengeOf(
      engine().require({ operation: 'op', flows: [['m.login.password']], auth: { type: 'm.login.password', user: '@b:x', password: 'secret' }, userId: '@a:x' }),
    );
    assert.equal(challenge.toJson()['errcode'], 'M_FORBIDDEN');
  });

  test('unknown and expired sessions are 400; types not offered fail the attempt', async () => {
    const uia = engine();
    await assert.rejects(uia.require({ operation: 'op', flows: [['m.login.dummy']], auth: { type: 'm.login.dummy', session: 'nope' } }), (error: unknown) =>
      error instanceof MatrixError && error.status === 400 && !(error instanceof UiaChallenge),
    );
    const first = await challengeOf(uia.require({ operation: 'op', flows: [['m.login.dummy']], auth: undefined }));
    now += 61_000;
    await assert.rejects(uia.require({ operation: 'op', flows: [['m.login.dummy']], auth: { type: 'm.login.dummy', session: String(first.toJson()['session']) } }), (error: unknown) =>
      error instanceof MatrixError && error.status === 400,
    );
    const unoffered = await challengeOf(uia.require({ operation: 'op', flows: [['m.login.password']], auth: { type: 'm.login.dummy' } }));
    assert.equal(unoffered.toJson()['errcode'], 'M_UNRECOGNIZED');
  });

  test('malformed auth is M_BAD_JSON', async () => {
    for (const auth of ['string', 3, { type: 7 }, { session: 5 }]) {
      await assert.rejects(engine().require({ operation: 'op', flows: [['m.login.dummy']], auth }), (error: unknown) =>
        error instanceof MatrixError && error.errcode === 'M_BAD_JSON',
      );
    }
  });

  test('a completed session authorises a retry of the same request; a single-use one does not', async () => {
    const uia = engine();
    const done = await uia.require({ operation: 'op', flows: [['m.login.dummy']], auth: { type: 'm.login.dummy' } });
    const again = await uia.require({ operation: 'op', flows: [['m.login.dummy']], auth: { session: done.sessionId } });
    assert.equal(again.sessionId, done.sessionId);
    await uia.setSessionData(done.sessionId, 'registered_user_id', '@x:y');
    assert.deepEqual(await uia.sessionData(done.sessionId), { registered_user_id: '@x:y' });

    const once = await uia.require({ operation: 'op', flows: [['m.login.dummy']], auth: { type: 'm.login.dummy' }, singleUse: true });
    await assert.rejects(uia.require({ operation: 'op', flows: [['m.login.dummy']], auth: { session: once.sessionId } }), (error: unknown) =>
      error instanceof MatrixError && error.status === 400,
    );
  });
});
