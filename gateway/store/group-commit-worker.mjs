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

// One statement's failure (a constraint) is its own outcome; the others in the batch still commit. An early
// write (a claim a crash may undo) is answered as soon as it has run, before the commit.
const runBatch = db.transaction((batch) => batch.writes.map((write, index) => {
  const outcome = run(write);
  if (write.early) {
    parentPort.postMessage({ id: batch.id, early: index, outcome });
    return { changes: 0 };
  }
  return outcome;
}));

parentPort.on('message', (batch) => {
  try {
    parentPort.postMessage({ id: batch.id, outcomes: runBatch(batch) });
  } catch (error) {
    parentPort.postMessage({ id: batch.id, failure: error instanceof Error ? error.message : String(error) });
  }
});
