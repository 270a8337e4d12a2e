import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOG_LIMITS } from '../../gateway/log.ts';

const LOG_MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../gateway/log.ts');

/** Runs a script in a child (through tsx, as the tests run) that logs to its own stdout, as npm start does. */
function child(script: string) {
  const proc = spawn(process.execPath, [
    '--import', 'tsx', '--input-type=module', '-e',
    `import { createLogger, logDestination, logLinesDropped, LOG_LIMITS } from ${JSON.stringify(LOG_MODULE)};\n${script}`,
  ], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  let out = '';
  const lines = () => out.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; n?: number });
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    out += chunk;
  });
  return { proc, lines };
}

describe('the log destination: lines gathered and written together, none lost', function () {
  this.timeout(30_000);

  it('writes every gathered line when the process exits right after logging', async function () {
    const { proc, lines } = child("const log = createLogger('info'); for (let n = 0; n < 50; n += 1) log.info({ n }, 'line'); process.exit(0);");
    const [code] = await once(proc, 'close'); // after its stdout has ended
    assert.equal(code, 0);
    assert.deepEqual(lines().map((line) => line.n), Array.from({ length: 50 }, (_, n) => n));
  });

  it('holds what waits for the reader to its limit: lines beyond it are dropped whole and counted, the rest is written in order', async function () {
    // 20,000 lines of ≈ 250 bytes logged in one go, against a 1 MiB limit: nothing is written until the loop
    // ends, so most are over the limit. Then the child waits until everything kept is written.
    const { proc, lines } = child(`
      const destination = logDestination({ ...LOG_LIMITS, maxPendingBytes: 1024 * 1024 });
      let largest = 0;
      destination.on('write', (bytes) => { largest = Math.max(largest, bytes); });
      const log = createLogger('info', destination);
      for (let n = 0; n < 20000; n += 1) log.info({ n, pad: 'x'.repeat(150) }, 'line');
      destination.flush(() => process.send({ dropped: logLinesDropped(), largest }, () => process.exit(0)));
    `);
    const [report] = await once(proc, 'message') as [{ dropped: number; largest: number }];
    await once(proc, 'close');
    const received = lines();
    assert.ok(report.dropped > 10_000, `most lines were over the limit (${report.dropped} dropped)`);
    assert.equal(received.length, 20_000 - report.dropped, 'every line not dropped was written');
    assert.ok(received.length * 250 < 1.2 * 1024 * 1024, 'no more waited than the limit');
    const numbers = received.map((line) => line.n!);
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), 'in order, each line whole (every one parsed)');
    assert.ok(report.largest <= LOG_LIMITS.maxWriteBytes, `no write over the ${LOG_LIMITS.maxWriteBytes}-byte limit (largest ${report.largest})`);
  });

  it('writes a lone line without waiting for more to gather (within LOG_LIMITS.flushMs), while the process runs on', async function () {
    const { proc, lines } = child("const log = createLogger('info'); log.info('alone'); setInterval(() => {}, 1000);");
    try {
      while (lines().length === 0) await once(proc.stdout!, 'data');
      assert.deepEqual(lines().map((line) => line.msg), ['alone']);
      assert.equal(proc.exitCode, null, 'the line came while the child still ran, not at its exit');
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
