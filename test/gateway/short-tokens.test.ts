import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/cluster.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
/** What a partner's or a checker's test setup may well use: short, and the same for both listeners. */
const TOKEN = 'secret';

/**
 * `npm start` with XR_ADMIN_TOKEN = XR_LOCAL_TOKEN = "secret": PROTOCOL §1 says the variables are honoured and
 * sets no rule on them, so the gateway starts (with a warning) and each listener takes the token in its role.
 */
describe('npm start with a short token shared by both listeners', function () {
  this.timeout(60_000);

  for (const workers of [1, 2]) {
    describe(`XR_WORKERS=${workers}`, function () {
      let child: ChildProcess;
      let stderr = '';
      let dataDir: string;
      const urls = { admin: '', local: '' };

      before(async function () {
        dataDir = mkdtempSync(path.join(os.tmpdir(), 'xr-tokens-'));
        const [partnerPort, localPort, adminPort] = [await freePort(), await freePort(), await freePort()];
        urls.admin = `http://127.0.0.1:${adminPort}`;
        urls.local = `http://127.0.0.1:${localPort}`;
        child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
          cwd: REPO,
          env: {
            PATH: process.env.PATH ?? '', XR_DATA_DIR: dataDir, XR_WORKERS: String(workers), XR_LOG_LEVEL: 'warn',
            XR_PARTNER_PORT: String(partnerPort), XR_LOCAL_PORT: String(localPort), XR_ADMIN_PORT: String(adminPort),
            XR_ADMIN_TOKEN: TOKEN, XR_LOCAL_TOKEN: TOKEN,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
        let stdout = '';
        await new Promise<void>((resolve, reject) => {
          child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
            stdout += chunk;
            if (/^xr-gateway 330500: /m.test(stdout)) resolve();
          });
          child.once('exit', (code) => reject(new Error(`the gateway exited with ${code}: ${stderr}`)));
        });
      });

      after(async function () {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          await exited;
        }
        rmSync(dataDir, { recursive: true, force: true });
      });

      it('starts, warning once on stderr without the token', function () {
        const warnings = stderr.split('\n').filter((line) => line.startsWith('xr-gateway: warning:'));
        assert.deepEqual(warnings, [
          'xr-gateway: warning: XR_ADMIN_TOKEN is shorter than 16 characters: easy to guess; use a long random token outside tests',
          'xr-gateway: warning: XR_ADMIN_TOKEN and XR_LOCAL_TOKEN are the same token: it grants both roles, and the separation between them is lost',
          'xr-gateway: warning: XR_LOCAL_TOKEN is shorter than 16 characters: easy to guess; use a long random token outside tests',
        ]);
        assert.doesNotMatch(stderr, new RegExp(`\\b${TOKEN}\\b`));
      });

      it('is the operator token on the admin listener: a change is made', async function () {
        const partner = { name: '上海市松江区', endpoint: 'http://127.0.0.1:1', format: 'sh-json', services: ['application.submit'] };
        const put = await fetch(`${urls.admin}/admin/v1/partners/310117`, {
          method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(partner),
        });
        assert.equal(put.status, 200, await put.clone().text());
        const list = await fetch(`${urls.admin}/admin/v1/partners`, { headers: { authorization: `Bearer ${TOKEN}` } });
        assert.deepEqual((await list.json() as Array<{ region: string }>).map((p) => p.region), ['310117']);
      });

      it('is the local token on the local listener, and another token is still refused', async function () {
        const known = await fetch(`${urls.local}/local/v1/messages/00000000-0000-4000-8000-000000000000`, { headers: { authorization: `Bearer ${TOKEN}` } });
        assert.equal(known.status, 404);
        assert.equal((await known.json() as { code: string }).code, 'XR_NOT_FOUND');
        const wrong = await fetch(`${urls.local}/local/v1/messages/00000000-0000-4000-8000-000000000000`, { headers: { authorization: 'Bearer secreT' } });
        assert.equal(wrong.status, 401);
        assert.equal((await wrong.json() as { code: string }).code, 'XR_UNAUTHENTICATED');
        const admin = await fetch(`${urls.admin}/admin/v1/partners`, { headers: { authorization: 'Bearer secreT' } });
        assert.equal(admin.status, 401);
      });
    });
  }
});
