// Media rows on every engine (client-server § "Content repository": POST /media/v1/create
// and PUT /media/v3/upload/{serverName}/{mediaId} rules; blob reference counting).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MediaRepository } from './media-repository.ts';
import { describeEngines } from './testing.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

describeEngines('MediaRepository', (getDb) => {
  test('a created URI is filled once, by its creator, before it expires', async () => {
    const repo = new MediaRepository(getDb());
    await repo.createPending('hs', 'pending1', '@a:hs', 1000, 5000);
    const input = { serverName: 'hs', mediaId: 'pending1', contentType: 'text/plain', filename: undefined, size: 3, sha256: SHA_A, now: 2000 };
    assert.equal(await repo.countPending('@a:hs', 2000), 1);
    assert.equal(await repo.checkPending('hs', 'pending1', '@b:hs', 2000), 'not-owner');
    assert.equal(await repo.completePending({ ...input, userId: '@b:hs' }), 'not-owner');
    assert.equal(await repo.completePending({ ...input, userId: '@a:hs', now: 6000 }), 'expired');
    assert.equal(await repo.completePending({ ...input, userId: '@a:hs' }), 'stored');
    assert.equal(await repo.completePending({ ...input, userId: '@a:hs' }), 'already-uploaded');
    assert.equal(await repo.completePending({ ...input, mediaId: 'nope', userId: '@a:hs' }), 'not-found');
    assert.equal((await repo.get('hs', 'pending1'))?.sha256, SHA_A);
    assert.equal(await repo.countPending('@a:hs', 2000), 0);
    assert.equal(await repo.usedBytes('@a:hs'), 3);
  });

  test('blob references count media and thumbnails; delete returns the blobs it freed', async () => {
    const repo = new MediaRepository(getDb());
    const base = { serverName: 'hs', userId: '@c:hs', contentType: 'image/png', filename: 'x.png', size: 10, now: 1 };
    await repo.insertUpload({ ...base, mediaId: 'one', sha256: SHA_B });
    await repo.insertUpload({ ...base, mediaId: 'two', sha256: SHA_B });
    const thumb = { serverName: 'hs', mediaId: 'one', width: 32, height: 32, method: 'crop', animated: false, contentType: 'image/png', size: 5, sha256: SHA_A, createdTs: 1 } as const;
    await repo.insertThumbnail(thumb);
    await repo.insertThumbnail(thumb);
    assert.equal(await repo.blobReferences(SHA_B), 2);
    assert.deepEqual((await repo.thumbnail(thumb))?.sha256, SHA_A);
    assert.deepEqual((await repo.delete('hs', 'one'))?.sort(), [SHA_A, SHA_B]);
    assert.equal(await repo.blobReferences(SHA_B), 1);
    assert.equal(await repo.thumbnail(thumb), undefined);
    assert.equal(await repo.delete('hs', 'one'), undefined);
    assert.equal(await repo.setQuarantined('hs', 'two', '@admin:hs', 5), true);
    assert.equal((await repo.get('hs', 'two'))?.quarantinedBy, '@admin:hs');
    assert.equal(await repo.setQuarantined('hs', 'two', undefined, 6), true);
    assert.equal((await repo.get('hs', 'two'))?.quarantinedTs, undefined);
  });

  test('remote media is cached by upsert; URL previews expire', async () => {
    const repo = new MediaRepository(getDb());
    const remote = { serverName: 'other', mediaId: 'r1', userId: undefined, contentType: 'image/png', filename: undefined, size: 4, sha256: SHA_A, now: 10 };
    await repo.upsertRemote(remote);
    await repo.upsertRemote({ ...remote, sha256: SHA_B, now: 20 });
    assert.equal((await repo.get('other', 'r1'))?.storedTs, 20);
    await repo.savePreview('https://x.example/', '{"og:title":"x"}', 10, 100);
    assert.equal(await repo.preview('https://x.example/', 50), '{"og:title":"x"}');
    assert.equal(await repo.preview('https://x.example/', 100), undefined);
  });
});
