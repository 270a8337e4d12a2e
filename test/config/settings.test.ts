import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RegionTable } from '../../adapters/regions/index.ts';
import { ConfigError, loadSettings, settingWarnings } from '../../config/settings.ts';

const regions = RegionTable.default();
const known = (code: string) => regions.has(code);
const REPO = path.resolve(import.meta.dirname, '../..');

/** `npm start` (the TypeScript entry point) with only these variables and PATH, run to its end. */
function npmStart(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadSettings(env, known);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail('the settings were accepted');
}

describe('configuration (PROTOCOL §1)', function () {
  it('has the protocol\'s defaults when nothing is set', function () {
    const settings = loadSettings({}, known);
    assert.equal(settings.region, '330500');
    assert.equal(settings.host, '127.0.0.1');
    assert.deepEqual([settings.partnerPort, settings.localPort, settings.adminPort], [8080, 8081, 8082]);
    assert.equal(settings.dataDir, path.resolve('./data'));
    assert.equal(settings.maxBodyBytes, 10 * 1024 * 1024);
    assert.deepEqual(settings.algorithms, ['ES256', 'PS256', 'RS256', 'EdDSA']);
    assert.equal(settings.adminToken, undefined);
  });

  it('honours every environment variable', function () {
    const settings = loadSettings({
      XR_REGION: '310117', XR_HOST: '0.0.0.0', XR_PARTNER_PORT: '9080', XR_LOCAL_PORT: '9081', XR_ADMIN_PORT: '9082',
      XR_DATA_DIR: '/tmp/xr', XR_ADMIN_TOKEN: 'a'.repeat(20), XR_LOCAL_TOKEN: 'l'.repeat(20), XR_LOCAL_BACKEND_URL: 'http://backend:9000/',
      XR_ALGORITHMS: 'ES256,EdDSA', XR_MAX_BODY_BYTES: '2048', XR_LOG_LEVEL: 'warn',
    }, known);
    assert.equal(settings.region, '310117');
    assert.equal(settings.host, '0.0.0.0');
    assert.deepEqual([settings.partnerPort, settings.localPort, settings.adminPort], [9080, 9081, 9082]);
    assert.equal(settings.localBackendUrl, 'http://backend:9000');
    assert.deepEqual(settings.algorithms, ['ES256', 'EdDSA']);
    assert.equal(settings.maxBodyBytes, 2048);
  });

  for (const [env, variable, message] of [
    [{ XR_ADMIN_PORT: '80a' }, 'XR_ADMIN_PORT', /not a TCP port/],
    [{ XR_PARTNER_PORT: '70000' }, 'XR_PARTNER_PORT', /not a TCP port/],
    [{ XR_LOCAL_PORT: '8080' }, 'XR_PARTNER_PORT', /also XR_LOCAL_PORT/],
    [{ XR_REGION: '33050' }, 'XR_REGION', /six-digit/],
    [{ XR_REGION: '999999' }, 'XR_REGION', /not a known region/],
    [{ XR_LOCAL_BACKEND_URL: 'not a url' }, 'XR_LOCAL_BACKEND_URL', /not a URL/],
    [{ XR_LOCAL_BACKEND_URL: 'ftp://x' }, 'XR_LOCAL_BACKEND_URL', /http or https/],
    [{ XR_ALGORITHMS: 'ES256,HS256' }, 'XR_ALGORITHMS', /HS256 is not one of/],
    [{ XR_ALGORITHMS: 'none' }, 'XR_ALGORITHMS', /none is not one of/],
    [{ XR_SIGNING_KEY_FILE: '/nonexistent/key.pem' }, 'XR_SIGNING_KEY_FILE', /cannot read/],
    [{ XR_LOG_LEVEL: 'loud' }, 'XR_LOG_LEVEL', /not one of/],
  ] as const) {
    it(`refuses ${JSON.stringify(env)}, naming ${variable}`, function () {
      const error = refusal(env);
      assert.equal(error.variable, variable);
      assert.match(error.message, message);
    });
  }

  it('takes short and shared tokens (PROTOCOL §1 sets no rule), with a warning that never holds a token', function () {
    const env = { XR_ADMIN_TOKEN: 'admin', XR_LOCAL_TOKEN: 'shared-token-0123456789', XR_AUDITOR_TOKEN: 'shared-token-0123456789' };
    const settings = loadSettings(env, known);
    assert.deepEqual([settings.adminToken, settings.localToken, settings.auditorToken], [env.XR_ADMIN_TOKEN, env.XR_LOCAL_TOKEN, env.XR_AUDITOR_TOKEN]);
    const warnings = settingWarnings(settings);
    assert.deepEqual(warnings.map((warning) => warning.split(' ').slice(0, 3).join(' ')), [
      'XR_ADMIN_TOKEN is shorter', 'XR_LOCAL_TOKEN and XR_AUDITOR_TOKEN',
    ]);
    for (const warning of warnings) for (const token of Object.values(env)) assert.doesNotMatch(warning, new RegExp(token));
    assert.deepEqual(settingWarnings(loadSettings({ XR_ADMIN_TOKEN: 'a'.repeat(16), XR_LOCAL_TOKEN: 'b'.repeat(16) }, known)), []);
    assert.deepEqual(settingWarnings(loadSettings({}, known)), [], 'generated tokens need no warning');
  });

  it('stops npm start with one line naming the bad setting and exit code 1, not a stack trace', function () {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-config-'));
    try {
      const run = npmStart({ XR_DATA_DIR: dataDir, XR_ADMIN_PORT: '80a' });
      assert.equal(run.status, 1);
      assert.equal(run.stderr.trim(), 'xr-gateway: configuration error: XR_ADMIN_PORT: "80a" is not a TCP port');
      assert.doesNotMatch(run.stderr, /at .*\.ts:\d+/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  // With XR_WORKERS=2 the data directory is opened and the key read in the process where the cluster primary
  // prepares them (gateway/data-dir-child.ts): a failure there reaches the primary as the same one line (a
  // configuration error as one), and no worker starts.
  for (const workers of [1, 2]) {
    it(`stops npm start naming the signing key file when it holds no usable key (XR_WORKERS=${workers})`, function () {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-config-'));
      try {
        const keyFile = path.join(dataDir, 'signing.key');
        const certFile = path.join(dataDir, 'signing.pem');
        writeFileSync(keyFile, 'garbage');
        writeFileSync(certFile, 'garbage');
        const run = npmStart({
          XR_DATA_DIR: dataDir, XR_SIGNING_KEY_FILE: keyFile, XR_SIGNING_CERT_FILE: certFile,
          XR_PARTNER_PORT: '0', XR_LOCAL_PORT: '0', XR_ADMIN_PORT: '0', XR_WORKERS: String(workers),
        });
        assert.equal(run.status, 1);
        assert.equal(run.stderr.trim(), `xr-gateway: configuration error: XR_SIGNING_KEY_FILE: signing key file ${keyFile} does not hold a usable PEM private key`);
        assert.doesNotMatch(run.stdout, /workers|gateway ready/);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it(`stops npm start with one line when XR_DATA_DIR is a file, not a directory (XR_WORKERS=${workers})`, function () {
      const parent = mkdtempSync(path.join(os.tmpdir(), 'xr-config-'));
      try {
        const dataDir = path.join(parent, 'not-a-directory');
        writeFileSync(dataDir, 'a file');
        const run = npmStart({ XR_DATA_DIR: dataDir, XR_PARTNER_PORT: '0', XR_LOCAL_PORT: '0', XR_ADMIN_PORT: '0', XR_WORKERS: String(workers) });
        assert.equal(run.status, 1);
        assert.equal(run.stderr.trim(), `xr-gateway: cannot start: EEXIST: file already exists, mkdir '${dataDir}'`);
        assert.doesNotMatch(run.stdout, /generated|workers|gateway ready/);
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    });
  }
});
