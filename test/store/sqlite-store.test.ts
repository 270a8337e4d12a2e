import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { GroupCommitWriter, SQLITE_CACHE_PRAGMA } from '../../gateway/store/group-commit.ts';
import { PURGE_CHUNK_ROWS, SqliteStore } from '../../gateway/store/sqlite-store.ts';

describe('the SQLite store', function () {
  let dir: string;
  let file: string;

  beforeEach(function () {
    dir = mkdtempSync(path.join(os.tmpdir(), 'xr-store-'));
    file = path.join(dir, 'gateway.sqlite');
  });

  afterEach(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it('claims each (iss, jti) exactly once, even when thousands of claims race in one group commit', async function () {
    const store = new SqliteStore(file);
    const claims = await Promise.all(Array.from({ length: 3000 }, (_, i) => store.replayClaim('320500', `jti-${i % 1000}`, 2000, 1000)));
    assert.equal(claims.filter(Boolean).length, 1000);
    assert.equal(await store.replayCount(), 1000);
    await store.close();
  });

  it('commits each write at once at low rates, and gathers writes into batches ≥ 1 ms apart when they come fast', async function () {
    const writer = new GroupCommitWriter(file);
    const worker = (writer as unknown as { worker: { postMessage(message: unknown): void } }).worker;
    const sent: number[] = [];
    const post = worker.postMessage.bind(worker);
    worker.postMessage = (message: unknown) => {
      sent.push(performance.now());
      post(message);
    };
    try {
      await writer.run('CREATE TABLE t (n INTEGER)', []);
      for (let i = 0; i < 5; i += 1) {
        const before = sent.length;
        const written = writer.run('INSERT INTO t VALUES (?)', [i]);
        assert.equal(sent.length, before + 1, 'a lone write goes to the writer thread at once');
        await written;
      }
      // 5 writes a millisecond (5,000/s) for 400 ms: from the second rate window on, batches are held apart.
      const writes: Array<Promise<number>> = [];
      const start = performance.now();
      while (performance.now() - start < 400) {
        for (let i = 0; i < 5; i += 1) writes.push(writer.run('INSERT INTO t VALUES (?)', [i]));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      await Promise.all(writes);
      const busy = sent.filter((at) => at - start > 200);
      const gaps = busy.slice(1).map((at, i) => at - busy[i]!);
      assert.ok(gaps.length > 10, `${gaps.length} batches in the busy stretch`);
      assert.ok(Math.min(...gaps) >= 0.9, `batches ${Math.min(...gaps).toFixed(2)} ms apart at the closest`);
      assert.ok(busy.length < writes.length / 4, `${writes.length} writes in ${sent.length} batches`);
      assert.deepEqual(await writer.all('SELECT COUNT(*) AS n FROM t', []), [{ n: writes.length + 5 }]);
    } finally {
      await writer.close();
    }
  });

  it('holds the page cache of its connection and of its writer thread\'s to 2 MiB, and keeps statement journals in memory', async function () {
    assert.equal(SQLITE_CACHE_PRAGMA, 'cache_size = -2048');
    const store = new SqliteStore(file);
    const writer = new GroupCommitWriter(file);
    try {
      assert.equal((store as unknown as { db: Database.Database }).db.pragma('cache_size', { simple: true }), -2048);
      assert.deepEqual(await writer.all('PRAGMA cache_size', []), [{ cache_size: -2048 }]);
      // temp_store 2 = MEMORY: a write that fires the outbox counts' triggers keeps its journal in memory.
      assert.equal((store as unknown as { db: Database.Database }).db.pragma('temp_store', { simple: true }), 2);
      assert.deepEqual(await writer.all('PRAGMA temp_store', []), [{ temp_store: 2 }]);
    } finally {
      await writer.close();
      await store.close();
    }
  });

  it('waits for the write lock another process holds, then commits; a failing statement does not stop the writer', async function () {
    const store = new SqliteStore(file);
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE'); // another process (an XR_WORKERS worker) in the middle of its commit
      let releasedAt = 0;
      setTimeout(() => {
        releasedAt = performance.now();
        other.exec('COMMIT');
      }, 30);
      assert.equal(await store.replayClaim('310117', 'waited', 2000, 1000), true);
      assert.ok(releasedAt > 0, 'the claim was committed only once the lock was free');

      const writer = (store as unknown as { writer: GroupCommitWriter }).writer;
      await assert.rejects(writer.run('INSERT INTO no_such_table VALUES (?)', [1]), /no such table/);
      assert.equal(await store.replayClaim('310117', 'after', 2000, 1000), true, 'the next batch commits');
      assert.equal(await store.replayCount(), 2);
    } finally {
      other.close();
      await store.close();
    }
  });

  it('keeps what it acknowledged: claims resolved before close are there after reopening', async function () {
    const first = new SqliteStore(file);
    const pending = Array.from({ length: 50 }, (_, i) => first.replayClaim('310117', `j${i}`, 2000, 1000));
    await first.close();
    assert.deepEqual(await Promise.all(pending), Array(50).fill(true));
    const second = new SqliteStore(file);
    assert.equal(await second.replayCount(), 50, 'every acknowledged claim is on disk');
    assert.equal(await second.replayClaim('310117', 'j49', 3000, 1500), false);
    await second.close();
  });

  it('lets an expired replay entry be claimed again, and purges expired entries', async function () {
    const store = new SqliteStore(file);
    assert.equal(await store.replayClaim('310117', 'old', 1000, 500), true);
    assert.equal(await store.replayClaim('310117', 'old', 2000, 1001), true, 'expired at 1000: claimable at 1001');
    assert.equal(await store.replayPurge(2001), 1);
    assert.equal(await store.replayCount(), 0);
    await store.close();
  });

  it('purges in chunks on the writer thread, so a claim made meanwhile does not wait for the whole purge', async function () {
    const store = new SqliteStore(file);
    const expired = PURGE_CHUNK_ROWS * 2 + 7;
    await Promise.all(Array.from({ length: expired }, (_, i) => store.replayClaim('310117', `old-${i}`, 1000, 500)));
    assert.equal(await store.replayClaim('310117', 'live', 5000, 500), true);

    let purged: number | undefined;
    const purge = store.replayPurge(2001).then((count) => (purged = count));
    assert.equal(await store.replayClaim('320000', 'meanwhile', 5000, 2001), true);
    assert.equal(purged, undefined, 'the claim was committed between the purge\'s chunks');
    assert.equal(await purge, expired);
    assert.equal(await store.replayCount(), 2, 'the live entry and the new claim remain');
    assert.equal(await store.replayClaim('310117', 'live', 5000, 2001), false, 'a live entry is still a replay');
    await store.close();
  });

  it('stops a purge after the chunk in hand when it is closed, and the next purge takes up the rest', async function () {
    const expired = PURGE_CHUNK_ROWS * 8;
    const first = new SqliteStore(file);
    await Promise.all(Array.from({ length: expired }, (_, i) => first.replayClaim('310117', `old-${i}`, 1000, 500)));
    const purge = first.replayPurge(2001);
    await first.close();
    const purged = await purge;
    assert.ok(purged < expired, `closed after ${purged} of ${expired}: close did not wait for the whole purge`);

    const second = new SqliteStore(file);
    assert.equal(await second.replayCount(), expired - purged, 'what a chunk deleted was committed, the rest is still there');
    assert.equal(await second.replayPurge(2001), expired - purged);
    assert.equal(await second.replayCount(), 0);
    await second.close();
  });

  it('purges inbound idempotency keys older than the bound, and only those', async function () {
    const store = new SqliteStore(file);
    for (const [key, createdAt] of [['k1', 100], ['k2', 200], ['k3', 300]] as const) {
      assert.deepEqual(await store.idempotencyClaim('310117', key, 'digest', createdAt), { state: 'claimed' });
    }
    assert.equal(await store.idempotencyPurge(250), 2);
    assert.deepEqual(await store.idempotencyClaim('310117', 'k3', 'digest', 400), { state: 'pending', bodyDigest: 'digest' }, 'the newer key is kept');
    assert.deepEqual(await store.idempotencyClaim('310117', 'k1', 'digest', 400), { state: 'claimed' }, 'a purged key can be claimed anew');
    await store.close();
  });

  it('keeps every saved version of a format and names the current one', async function () {
    const store = new SqliteStore(file);
    await store.putFormat('nj-json', 'a: 1');
    await store.putFormat('nj-json', 'a: 2');
    assert.equal((await store.getFormat('nj-json'))?.document, 'a: 2');
    assert.equal((await store.getFormat('nj-json', 1))?.document, 'a: 1');
    assert.deepEqual((await store.formatHistory('nj-json')).map((v) => v.version), [2, 1]);
    await store.close();
  });
});
