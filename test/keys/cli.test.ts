import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { toPem } from '../../certs/issue.ts';
import { runCli } from '../../gateway/cli.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makeAuthority, makeCrl, type Authority } from '../support/keys.ts';
import { makePartnerPki } from '../support/pki.ts';

const REPO = path.resolve(import.meta.dirname, '../..');

describe('the CLI (npx xr-gateway): the same key operations on the data directory', function () {
  let dataDir: string;
  let scratch: string;
  let huzhouCa: Authority;
  let harness: TestGateway | undefined;

  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, {
      env: { XR_DATA_DIR: dataDir, P12_PASSPHRASE: 'bundle passphrase' },
      out: (text) => out.push(text),
      err: (text) => err.push(text),
      readFile: (file) => readFile(file),
      writeFile: (file, text) => writeFile(file, text),
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  const file = (name: string, content: string | Buffer) => {
    const target = path.join(scratch, name);
    writeFileSync(target, content);
    return target;
  };

  before(async function () {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'xr-cli-files-'));
    huzhouCa = await makeAuthority('CN=Huzhou XR CA,O=Huzhou,C=CN');
  });

  beforeEach(function () {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-cli-'));
  });

  afterEach(async function () {
    await harness?.stop();
    harness = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  after(function () {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('generates a key and CSR, installs the issued chain, activates it, and the gateway then signs with it', async function () {
    harness = await startTestGateway({ XR_DATA_DIR: dataDir });
    await harness.gateway.close();

    const csrFile = path.join(scratch, 'gateway.csr');
    const generated = await cli('keys', 'generate', '--subject', 'CN=XR gateway 330500,O=Huzhou,C=CN', '--csr-out', csrFile);
    assert.equal(generated.code, 0, generated.err);
    const id = /key ([0-9a-f]{12}) \(pending\)/.exec(generated.out)?.[1];
    assert.ok(id, generated.out);
    const chain = file('issued.pem', await huzhouCa.issueFromCsr(readFileSync(csrFile, 'utf8')));
    const installed = await cli('keys', 'install', id, chain);
    assert.equal(installed.code, 0, installed.err);
    assert.match(installed.out, /\(ready\)/);

    const refused = await cli('keys', 'activate', id, '--overlap-days', '7');
    assert.equal(refused.code, 1);
    assert.match(refused.err, /^xr-gateway keys activate: the certificate of signing key .* does not chain to the CA of the active certificate/);
    const activated = await cli('keys', 'activate', id, '--overlap-days', '7', '--accept-new-anchor');
    assert.equal(activated.code, 0, activated.err);
    assert.match(activated.out, /\(retiring\).*published until/s);

    const listed = JSON.parse((await cli('keys', 'list', '--json')).out) as Array<{ id: string; state: string; kid: string }>;
    assert.deepEqual(listed.map((key) => key.state).sort(), ['active', 'retiring']);
    harness = await startTestGateway({ XR_DATA_DIR: dataDir });
    assert.equal(harness.gateway.signer().kid, listed.find((key) => key.id === id)!.kid);
  });

  it('imports a PKCS#12 bundle whose passphrase comes from a named environment variable, never the command line', async function () {
    const pki = await makePartnerPki('330500');
    const { signer, pem } = await pki.issueLeaf();
    const p12 = path.join(scratch, 'bundle.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-inkey', file('bundle.key', toPem(signer.privateKey)), '-in', file('bundle.pem', pem + pki.caPem), '-out', p12, '-passout', 'pass:bundle passphrase']);
    const imported = await cli('keys', 'import-p12', p12, '--passphrase-env', 'P12_PASSPHRASE');
    assert.equal(imported.code, 0, imported.err);
    assert.match(imported.out, new RegExp(`\\(ready\\).*kid ${signer.kid}`));
    const unset = await cli('keys', 'import-p12', p12, '--passphrase-env', 'NOT_SET_ANYWHERE');
    assert.deepEqual([unset.code, /NOT_SET_ANYWHERE is not set/.test(unset.err)], [2, true]);
  });

  it('lists certificates with days left and imports a partner CRL the running gateway then shows', async function () {
    harness = await startTestGateway({ XR_DATA_DIR: dataDir });
    const partner = await makePartnerPki('320500');
    await harness.admin('PUT', '/admin/v1/partners/320500', { name: '苏州', endpoint: 'http://127.0.0.1:9', format: 'hz-json', services: ['application.status'] });
    await harness.admin('POST', '/admin/v1/partners/320500/trust', partner.caPem);

    const certs = await cli('certs', 'list');
    assert.equal(certs.code, 0, certs.err);
    assert.match(certs.out, /^\s+SCOPE\s+REGION\s+DAYS/);
    assert.match(certs.out, /partner\s+320500\s+\d+/);
    assert.match(certs.out, /signing\s+330500\s+7[23]\d\s/);

    const imported = await cli('crl', 'import', '320500', file('partner.crl', await makeCrl(partner.ca, ['0BAD'])));
    assert.equal(imported.code, 0, imported.err);
    assert.match(imported.out, /1 certificates revoked/);
    const inForce = await (await harness.admin('GET', '/admin/v1/partners/320500/crl')).json() as unknown[];
    assert.equal(inForce.length, 1);
    const forged = await cli('crl', 'import', '320500', file('forged.crl', await makeCrl((await makePartnerPki('310117')).ca, ['0BAD'])));
    assert.deepEqual([forged.code, /not a trust anchor registered for region 320500/.test(forged.err)], [1, true]);
  });

  it('says what is wrong and exits 2 for wrong words, 1 for a refusal', async function () {
    assert.equal((await cli('keys', 'rotate')).code, 2);
    assert.equal((await cli('keys', 'list', '--yaml')).code, 2);
    assert.equal((await cli('keys', 'install', 'abc')).code, 2);
    const empty = await cli('keys', 'list');
    assert.deepEqual([empty.code, /no gateway data in/.test(empty.err)], [1, true]);
    assert.equal((await cli('keys', 'generate', '--subject', 'CN=x')).code, 0);
    const unknown = await cli('keys', 'activate', 'f00f00f00f00');
    assert.deepEqual([unknown.code, unknown.err], [1, 'xr-gateway keys activate: no signing key f00f00f00f00']);
  });

  it('runs as a program: bin/xr-gateway.mjs through tsx, with the exit code of the command', function () {
    const run = (...argv: string[]) => spawnSync(process.execPath, ['bin/xr-gateway.mjs', ...argv], {
      cwd: REPO, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, XR_DATA_DIR: dataDir },
    });
    const refused = run('keys', 'list');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /^xr-gateway keys list: no gateway data in /);
  });
});
