// The writer thread of GroupCommitWriter (group-commit.ts): its own SQLite connection, one transaction and
// one fsync (synchronous=FULL) per batch; statements prepared once per distinct SQL text. Plain JavaScript
// so the thread starts at once, without a TypeScript loader (a worker does not inherit tsx's).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
db.pragma(workerData.cachePragma);
// Statement journals (a statement that writes several rows, or fires a trigger, keeps one to undo itself)
// in memory, not in a temporary file each time.
db.pragma('temp_store = MEMORY');
const prepared = new Map();

function statement(sql) {
  let found = prepared.get(sql);
  if (!found) {
    found = db.prepare(sql);
    prepared.set(sql, found);
  }
  return found;
}

function run(write) {
  try {
    const prepared = statement(write.sql);
    if (write.rows) return { changes: 0, rows: prepared.all(...write.params) };
    return { changes: prepared.run(...write.params).changes };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

// The write lock is taken before the batch runs (BEGIN IMMEDIATE), with this thread's own retries. SQLite's
// busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … ms between tries, while with several processes sharing the
// file (XR_WORKERS) another's commit holds the lock for a fraction of a millisecond. Here the tries are 50 µs
// apart, doubling up to 1 ms, for at most LOCK_WAIT_MS in all: two processes at 500 claims/s each, claim p99
// 3.5–5.9 → 3.0–4.4 ms, max 10–28 → 9–19 ms (bench/micro/shared-lock.ts, results.md). So this connection has no busy
// timeout of its own: once BEGIN IMMEDIATE holds the write lock (and its read mark), WAL lets nothing else
// make its statements or its COMMIT wait.
const LOCK_WAIT_MS = 5000;
const FIRST_PAUSE_MS = 0.05;
const LONGEST_PAUSE_MS = 1;
const pause = new Int32Array(new SharedArrayBuffer(4));
db.pragma('busy_timeout = 0');
const begin = db.prepare('BEGIN IMMEDIATE');
const commit = db.prepare('COMMIT');
const rollback = db.prepare('ROLLBACK');

function takeWriteLock() {
  const deadline = performance.now() + LOCK_WAIT_MS;
  let pauseMs = FIRST_PAUSE_MS;
  for (;;) {
    try {
      begin.run();
      return;
    } catch (error) {
      if (error?.code !== 'SQLITE_BUSY' || performance.now() >= deadline) throw error;
    }
    Atomics.wait(pause, 0, 0, pauseMs);
    pauseMs = Math.min(pauseMs * 2, LONGEST_PAUSE_MS);
  }
}

// One statement's failure (a constraint) is its own outcome; the others in the batch still commit. An early
// write (a claim a crash may undo) is answered as soon as it has run, before the commit.
function runBatch(batch) {
  takeWriteLock();
  try {
    const outcomes = batch.writes.map((write, index) => {
      const outcome = run(write);
      if (write.early) {
        parentPort.postMessage({ id: batch.id, early: index, outcome });
        return { changes: 0 };
      }
      return outcome;
    });
    commit.run();
    return outcomes;
  } catch (error) {
    if (db.inTransaction) rollback.run();
    throw error;
  }
}

parentPort.on('message', (batch) => {
  try {
    parentPort.postMessage({ id: batch.id, outcomes: runBatch(batch) });
  } catch (error) {
    parentPort.postMessage({ id: batch.id, failure: error instanceof Error ? error.message : String(error) });
  }
});
