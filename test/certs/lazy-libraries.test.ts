/**
 * @peculiar/x509 and node-forge are loaded on first use (certs/lazy-libraries.ts): a gateway that serves
 * messages never loads them, and the key lifecycle still finds them when it needs them. Of undici only the
 * pool is loaded (gateway/http/client.ts), not the whole library. Each start runs in
 * a child process, whose module cache is its own.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

interface ChildReport {
  afterStart: { x509: boolean; forge: boolean; undiciIndex: boolean };
  afterCall?: { status: number; x509: boolean };
}

async function startChild(dataDir: string, adminCall?: string): Promise<ChildReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/loaded-libraries-child.ts'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { ...process.env, XR_DATA_DIR: dataDir, ...(adminCall === undefined ? {} : { XR_CHILD_ADMIN_CALL: adminCall }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, `the child gateway failed: ${output}`);
  return JSON.parse(output.trim().split('\n').at(-1)!) as ChildReport;
}

describe('the certificate libraries, loaded on first use', function () {
  let dataDir: string;
  let firstStart: ChildReport;

  before(async function () {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-lazy-'));
    firstStart = await startChild(dataDir);
  });

  after(function () {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('are loaded by a first start, which issues the development PKI, and not by a later one', async function () {
    assert.equal(firstStart.afterStart.x509, true, 'the development PKI is issued with @peculiar/x509');
    const later = await startChild(dataDir);
    assert.deepEqual(later.afterStart, { x509: false, forge: false, undiciIndex: false });
  });

  it('are found when an operator first needs them: a new signing key and its CSR', async function () {
    const report = await startChild(dataDir, 'POST /admin/v1/keys {"subject":"CN=XR gateway 330500,O=Huzhou,C=CN"}');
    assert.equal(report.afterStart.x509, false);
    assert.deepEqual(report.afterCall, { status: 201, x509: true });
  });
});
