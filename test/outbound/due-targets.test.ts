/** The dispatcher's memory of which partners have messages due (gateway/outbound/due-targets.ts), as pure bookkeeping. */
import assert from 'node:assert/strict';
import { DueTargets } from '../../gateway/outbound/due-targets.ts';

const NOW = 1_000_000;

/** A Store read that the test finishes by hand, so that notes can come while it is under way. */
function pendingRead<T>(): { read: () => Promise<T>; answer(value: T): void } {
  let answer!: (value: T) => void;
  const promise = new Promise<T>((resolve) => { answer = resolve; });
  return { read: () => promise, answer: (value) => answer(value) };
}

describe('the dispatcher\'s due targets: which partners have queued messages, without asking the Store', function () {
  it('keeps each target\'s earliest due time, and splits what is due now from when the next one is', function () {
    const due = new DueTargets();
    due.note('320500', NOW + 500);
    due.note('320500', NOW + 100);
    due.note('320500', NOW + 900);
    due.note('310000', NOW);
    due.note('330100', NOW - 50);
    assert.deepEqual(due.dueAt(NOW), { due: ['330100', '310000'], nextMs: NOW + 100 });
    assert.deepEqual(due.dueAt(NOW + 100), { due: ['330100', '310000', '320500'], nextMs: Number.POSITIVE_INFINITY });
  });

  it('is replaced by the Store\'s list when seeded, which also finds targets it was not told of', async function () {
    const due = new DueTargets();
    due.note('310000', NOW);
    await due.seed(async () => [{ target: '320500', nextAttemptAtMs: NOW + 10 }]);
    assert.deepEqual(due.dueAt(NOW + 10), { due: ['320500'], nextMs: Number.POSITIVE_INFINITY }, '310000 has nothing queued any more');
  });

  it('keeps a note made while the seed was being read: the read may predate it', async function () {
    const due = new DueTargets();
    const store = pendingRead<Array<{ target: string; nextAttemptAtMs: number }>>();
    const seeding = due.seed(store.read);
    due.note('310000', NOW);
    due.note('320500', NOW + 5);
    store.answer([{ target: '320500', nextAttemptAtMs: NOW + 20 }]);
    await seeding;
    assert.deepEqual(due.dueAt(NOW), { due: ['310000'], nextMs: NOW + 5 });
  });

  it('after a claim that emptied a target, learns its next due time from the Store, or forgets it', async function () {
    const due = new DueTargets();
    due.note('310000', NOW);
    due.note('320500', NOW);
    await due.refresh('310000', async () => NOW + 75);
    await due.refresh('320500', async () => undefined);
    assert.deepEqual(due.dueAt(NOW), { due: [], nextMs: NOW + 75 });
    assert.deepEqual(due.dueAt(NOW + 75).due, ['310000']);
  });

  it('ignores a refresh when the target was noted while the Store was being read', async function () {
    const due = new DueTargets();
    due.note('310000', NOW);
    const store = pendingRead<number | undefined>();
    const refreshing = due.refresh('310000', store.read);
    due.note('310000', NOW + 1);
    store.answer(undefined);
    await refreshing;
    assert.deepEqual(due.dueAt(NOW).due, ['310000'], 'the message queued meanwhile is not forgotten');
  });
});
