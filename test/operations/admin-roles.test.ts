import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ChainedAuditRecord } from '../../gateway/audit/audit-log.ts';
import { DATABASE_FILE } from '../../gateway/server.ts';
import { ADMIN_TOKEN, AUDITOR_TOKEN, LOCAL_TOKEN } from '../support/gateway.ts';
import { outboundMessage, queue, settled } from '../support/outbound.ts';
import { INBOUND_PARTNER, OUTBOUND_PARTNER, startOperationsRig, type OperationsRig } from './rig.ts';

/** Admin calls that use another method than GET but change nothing: the auditor may make them. */
const READ_ONLY_CALLS = new Set(['POST /admin/v1/formats/:format/translate']);

/** Every row of every table of the Store's database, in a form that compares. */
function storeContents(dataDir: string): string {
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    return JSON.stringify(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all()]), (_key, value: unknown) => (
      value instanceof Uint8Array || (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer')
        ? Buffer.from(value as Uint8Array).toString('hex') : value));
  } finally {
    db.close();
  }
}

describe('admin roles: every change needs the operator token, and every call is audited', function () {
  this.timeout(60_000);
  let rig: OperationsRig;
  let changeRoutes: Array<{ method: string; path: string }>;
  let outboxId: string;

  before(async function () {
    rig = await startOperationsRig();
    outboxId = await queue(rig.harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', OUTBOUND_PARTNER));
    await settled(rig.harness.gateway, [outboxId]);
    changeRoutes = rig.harness.gateway.operations.adminRoutes()
      .flatMap(({ methods, path: routePath }) => methods.filter((m) => m !== 'GET').map((method) => ({ method, path: routePath })))
      .filter(({ method, path: routePath }) => !READ_ONLY_CALLS.has(`${method} ${routePath}`));
  });

  after(async function () {
    await rig.stop();
  });

  /** A real target for each parameter, so that the call would change something if it were let through. */
  function concrete(routePath: string): string {
    const values: Record<string, string> = { region: INBOUND_PARTNER, format: 'hz-json', id: outboxId, kid: rig.harness.gateway.signer().kid };
    return routePath.replace(/:([A-Za-z]+)/g, (_match, name: string) => encodeURIComponent(values[name] ?? 'x'));
  }

  function bodyFor(method: string, routePath: string): { body: string; type: string } | undefined {
    if (method === 'DELETE') return undefined;
    if (routePath.endsWith('/trust')) return { body: rig.outbound.pki.caPem, type: 'application/x-pem-file' };
    if (routePath === '/admin/v1/partners/:region') {
      return { body: JSON.stringify({ name: 'changed', endpoint: 'http://127.0.0.1:1', format: 'hz-json', services: ['application.submit'] }), type: 'application/json' };
    }
    if (routePath.endsWith('/revocations')) return { body: JSON.stringify({ kid: rig.inbound.signer.kid }), type: 'application/json' };
    if (routePath.startsWith('/admin/v1/breakers/')) return { body: JSON.stringify({ state: 'open' }), type: 'application/json' };
    if (routePath === '/admin/v1/keys') return { body: JSON.stringify({ subject: 'CN=XR gateway 330500,O=Huzhou,C=CN' }), type: 'application/json' };
    if (routePath === '/admin/v1/formats/:format') return { body: 'name: hz-json\n', type: 'application/yaml' };
    return { body: '{}', type: 'application/json' };
  }

  function call(method: string, routePath: string, token: string | undefined) {
    const payload = bodyFor(method, routePath);
    return fetch(`${rig.harness.gateway.urls.admin}${concrete(routePath)}`, {
      method,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(payload ? { 'content-type': payload.type } : {}) },
      ...(payload ? { body: payload.body } : {}),
    });
  }

  async function liveState(): Promise<string> {
    const { gateway } = rig.harness;
    return JSON.stringify([gateway.directory.allPartners(), gateway.outbound.breakers().map(({ partner, state, override }) => [partner, state, override]), gateway.signer().kid]);
  }

  /** The audit record of the call that got `response`, found by the request id the gateway answered with. */
  async function recordOf(response: Response): Promise<ChainedAuditRecord> {
    const requestId = response.headers.get('x-request-id');
    const { records } = await rig.audit({ kind: 'admin', limit: 10 });
    const record = records.find((r) => r.fields.requestId === requestId);
    assert.ok(record, `no audit record for request ${requestId}`);
    return record;
  }

  it('finds the change routes to try: partners, trust, revocations, CRLs, formats, breakers, the outbox and keys at least', function () {
    const names = changeRoutes.map(({ method, path: routePath }) => `${method} ${routePath}`);
    for (const expected of [
      'PUT /admin/v1/partners/:region', 'DELETE /admin/v1/partners/:region', 'POST /admin/v1/partners/:region/trust',
      'POST /admin/v1/partners/:region/revocations', 'PUT /admin/v1/formats/:format', 'POST /admin/v1/formats/:format/rollback',
      'POST /admin/v1/breakers/:region', 'POST /admin/v1/outbox/:id/requeue', 'POST /admin/v1/keys', 'POST /admin/v1/keys/:id/activate',
      'POST /admin/v1/partners/:region/crl',
    ]) assert.ok(names.includes(expected), `${expected} is among ${names.join(', ')}`);
  });

  for (const [who, token, code, status, recordedToken] of [
    ['the auditor token', AUDITOR_TOKEN, 'XR_FORBIDDEN', 403, undefined],
    ['the local listener\'s token', LOCAL_TOKEN, 'XR_FORBIDDEN', 403, undefined],
    ['no token', undefined, 'XR_UNAUTHENTICATED', 401, 'missing'],
    ['a wrong token', 'not-the-admin-token-0123456789', 'XR_UNAUTHENTICATED', 401, 'unknown'],
  ] as const) {
    it(`refuses every change route with ${who} (${status} ${code}), changes nothing, and audits the refusal`, async function () {
      for (const route of changeRoutes) {
        const name = `${route.method} ${route.path}`;
        const store = storeContents(rig.harness.dataDir);
        const live = await liveState();
        const response = await call(route.method, route.path, token);
        assert.equal(response.status, status, `${name}: ${await response.clone().text()}`);
        assert.equal((await response.json() as { code: string }).code, code, name);
        assert.equal(storeContents(rig.harness.dataDir), store, `${name} changed the Store`);
        assert.equal(await liveState(), live, `${name} changed the live configuration`);

        const record = await recordOf(response);
        assert.equal(record.fields.method, route.method, name);
        assert.equal(record.fields.path, concrete(route.path), name);
        assert.equal(record.fields.outcome, code, name);
        assert.equal(record.fields.status, status, name);
        const recordedWho = record.fields.who as { role: string | null; token: string };
        const role = token === LOCAL_TOKEN ? 'local' : 'auditor';
        if (recordedToken === undefined) assert.deepEqual([recordedWho.role, /^[0-9a-f]{16}$/.test(recordedWho.token)], [role, true], name);
        else assert.deepEqual(recordedWho, { role: null, token: recordedToken }, name);
        assert.equal(record.fields.changed, false, `${name}: the record says nothing changed`);
        assert.deepEqual(record.fields.before, record.fields.after, name);
      }
    });
  }

  it('refuses reads with the local listener\'s token: 403 XR_FORBIDDEN, a valid token without the role', async function () {
    for (const readPath of ['/admin/v1/partners', '/admin/v1/formats', '/admin/v1/breakers', '/admin/v1/outbox']) {
      const response = await fetch(`${rig.harness.gateway.urls.admin}${readPath}`, { headers: { authorization: `Bearer ${LOCAL_TOKEN}` } });
      assert.equal(response.status, 403, readPath);
      assert.equal((await response.json() as { code: string }).code, 'XR_FORBIDDEN', readPath);
    }
  });

  it('lets the auditor read, and audits the reads too', async function () {
    for (const readPath of ['/admin/v1/partners', `/admin/v1/partners/${INBOUND_PARTNER}`, '/admin/v1/formats', '/admin/v1/breakers', '/admin/v1/outbox']) {
      const response = await fetch(`${rig.harness.gateway.urls.admin}${readPath}`, { headers: { authorization: `Bearer ${AUDITOR_TOKEN}` } });
      assert.equal(response.status, 200, readPath);
      const record = await recordOf(response);
      assert.deepEqual([record.fields.method, record.fields.path, record.fields.outcome, (record.fields.who as { role: string }).role], ['GET', readPath, 'OK', 'auditor']);
      assert.equal(record.fields.before, undefined, 'a read records no before/after');
    }
  });

  it('records a new signing key by id and state, never the key itself', async function () {
    const response = await call('POST', '/admin/v1/keys', ADMIN_TOKEN);
    assert.equal(response.status, 201, await response.clone().text());
    const { key } = await response.json() as { key: { id: string } };
    const record = await recordOf(response);
    const { before, after, changed } = record.fields as unknown as { before: { keys: unknown[] }; after: { keys: Array<{ id: string; state: string }> }; changed: boolean };
    assert.equal(changed, true);
    assert.equal(after.keys.length, before.keys.length + 1);
    assert.deepEqual(after.keys.find((k) => k.id === key.id)?.state, 'pending');
    assert.doesNotMatch(JSON.stringify(record), /PRIVATE KEY|CERTIFICATE REQUEST/);
  });

  it('lets the operator make the same change, and records it as changed', async function () {
    const response = await call('POST', '/admin/v1/breakers/:region', ADMIN_TOKEN);
    assert.equal(response.status, 200, await response.clone().text());
    const record = await recordOf(response);
    assert.deepEqual([record.fields.outcome, (record.fields.who as { role: string }).role, record.fields.changed], ['OK', 'operator', true]);
    assert.deepEqual(record.fields.after, { state: 'open', override: 'open' });
  });
});
