import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LOG_MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../gateway/log.ts');

/** Runs a script in a child (through tsx, as the tests run) that logs to its own stdout, as npm start does. */
function child(script: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { createLogger, LOG_FLUSH_MS } from ${JSON.stringify(LOG_MODULE)};\n${script}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const lines = () => out.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; n?: number });
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
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

  it('writes a lone line without waiting for more to gather (within LOG_FLUSH_MS), while the process runs on', async function () {
    const { proc, lines } = child("const log = createLogger('info'); log.info('alone'); setInterval(() => {}, 1000);");
    try {
      while (lines().length === 0) await once(proc.stdout, 'data');
      assert.deepEqual(lines().map((line) => line.msg), ['alone']);
      assert.equal(proc.exitCode, null, 'the line came while the child still ran, not at its exit');
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
