import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SimulatedBackend } from '../support/backend.ts';
import { AUDITOR_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';
import { postSigned, requestHeader, signRaw } from '../support/partner-client.ts';

/** A new city's format, as an operator would write it: Nanjing-style JSON with its own key names. */
const NJ_JSON = `
name: nj-json
description: 南京 — JSON, English-ish keys
mediaType: application/json
charset: UTF-8
codeTables:
  status: { RECEIVED: R, ACCEPTED: A, REJECTED: X, SUPPLEMENT_REQUIRED: S, IN_PROGRESS: P, COMPLETED: C, WITHDRAWN: W }
messages:
  application.status:
    request:
      fields:
        caseNo: applyNo
        handleNo: handleNo
        state: { canonical: status, code: status }
        at: { canonical: statusAt, time: yyyyMMddHHmmss }
        note: remark
        licence: { canonical: licenceNo, optional: true }
    response:
      fields:
        caseNo: applyNo
        note: message
`;

const NJ_STATUS = { caseNo: '3201002026112700001', handleNo: 'HZ3305022026112700001', state: 'C', at: '20261128150000', note: '办结' };

describe('live management of partner formats (admin API)', function () {
  let backend: SimulatedBackend;
  let harness: TestGateway;
  let pki: PartnerPki;

  before(async function () {
    backend = await SimulatedBackend.start();
    harness = await startTestGateway({ XR_LOCAL_BACKEND_URL: backend.url });
    pki = await makePartnerPki('320100');
  });

  after(async function () {
    await harness.stop();
    await backend.stop();
  });

  function sendStatus(body: unknown) {
    const raw = Buffer.from(JSON.stringify(body));
    const header = requestHeader(pki.signer, { iss: '320100', messageType: 'application.status' });
    return postSigned(harness.gateway.urls.partner, 'application.status', raw, 'application/json', signRaw(header, raw, pki.signer.privateKey, 'ES256'));
  }

  it('lists the five shipped formats', async function () {
    const formats = await (await harness.admin('GET', '/admin/v1/formats')).json() as Array<{ name: string; source: string }>;
    assert.deepEqual(formats.map((f) => f.name).sort(), ['ah-xml', 'hz-json', 'js-xml', 'sh-json', 'zj-xml']);
    assert.ok(formats.every((f) => f.source === 'shipped'));
  });

  it('shows a format\'s document', async function () {
    const response = await harness.admin('GET', '/admin/v1/formats/sh-json');
    assert.equal(response.status, 200);
    assert.match(await response.text(), /ywbh: applyNo/);
  });

  it('takes a new format by PUT and a partner uses it at once, without a restart', async function () {
    const put = await harness.admin('PUT', '/admin/v1/formats/nj-json', NJ_JSON, 'application/yaml');
    assert.equal(put.status, 200, await put.clone().text());
    assert.equal((await put.json() as { version: number }).version, 1);
    assert.equal((await harness.admin('PUT', '/admin/v1/partners/320100', { name: '南京市', endpoint: 'https://xr.nanjing.example', format: 'nj-json', services: ['application.status'] })).status, 200);
    assert.equal((await harness.admin('POST', '/admin/v1/partners/320100/trust', pki.caPem)).status, 201);

    const answer = await sendStatus(NJ_STATUS);
    assert.equal(answer.status, 200, answer.body.toString());
    assert.deepEqual(backend.calls.at(-1)!.body, {
      applyNo: '3201002026112700001', handleNo: 'HZ3305022026112700001', status: 'COMPLETED', statusAt: '2026-11-28T15:00:00+08:00', remark: '办结',
    });
    assert.deepEqual(answer.json(), { caseNo: '3201002026112700001', note: '已收到' });
  });

  for (const [name, document, message] of [
    ['a document that is not YAML', 'name: [unclosed', /YAML|JSON|parse/i],
    ['a field naming a code table that does not exist', NJ_JSON.replace('code: status }', 'code: statuses }'), /statuses/],
    ['a JSONata expression that does not compile', NJ_JSON.replace('note: remark', 'note: { canonical: remark, expression: "$substring(" }'), /expression|JSONata/i],
    // Every application.status request holds a handleNo: no message of it could be read or written.
    ['a mapping that leaves out a field every message holds', NJ_JSON.replace('        handleNo: handleNo\n', ''),
      /^messages\["application\.status"\]\.request\.fields: maps no field to canonical handleNo, which every application\.status request holds \(a partner with no place for it: name it in drop\)$/],
  ] as const) {
    it(`refuses ${name}, saying what is wrong, and the old mapping stays in force`, async function () {
      const before = await harness.gateway.store.formatHistory('nj-json');
      const put = await harness.admin('PUT', '/admin/v1/formats/nj-json', document, 'application/yaml');
      assert.equal(put.status, 400, await put.clone().text());
      const problem = await put.json() as { code: string; detail: string };
      assert.equal(problem.code, 'XR_BAD_REQUEST');
      assert.match(problem.detail, message);
      assert.deepEqual(await harness.gateway.store.formatHistory('nj-json'), before);
      const answer = await sendStatus(NJ_STATUS);
      assert.equal(answer.status, 200);
    });
  }

  it('refuses a change from the auditor and keeps the format unchanged', async function () {
    const before = await harness.gateway.store.formatHistory('nj-json');
    const response = await fetch(`${harness.gateway.urls.admin}/admin/v1/formats/nj-json`, {
      method: 'PUT', headers: { authorization: `Bearer ${AUDITOR_TOKEN}`, 'content-type': 'application/yaml' }, body: NJ_JSON,
    });
    assert.equal(response.status, 403);
    assert.deepEqual(await harness.gateway.store.formatHistory('nj-json'), before);
  });

  it('keeps the previous version, so an operator can roll back, and the rollback is in force at once and after a restart', async function () {
    const renamed = NJ_JSON.replace('caseNo: applyNo\n        handleNo', 'caseId: applyNo\n        handleNo');
    assert.equal((await harness.admin('PUT', '/admin/v1/formats/nj-json', renamed, 'application/yaml')).status, 200);
    const refused = await sendStatus(NJ_STATUS);
    assert.equal(refused.status, 422, 'the old key name no longer maps');
    assert.equal(refused.json().code, 'XR_TRANSLATION');

    const versions = await (await harness.admin('GET', '/admin/v1/formats/nj-json/versions')).json() as Array<{ version: number }>;
    assert.deepEqual(versions.map((v) => v.version), [2, 1]);
    const rollback = await harness.admin('POST', '/admin/v1/formats/nj-json/rollback', { version: 1 });
    assert.equal(rollback.status, 200);
    assert.deepEqual(await rollback.json(), { name: 'nj-json', version: 3, restoredFrom: 1 });
    assert.equal((await sendStatus(NJ_STATUS)).status, 200);

    await harness.restart();
    assert.equal((await sendStatus(NJ_STATUS)).status, 200);
    const old = await harness.admin('GET', '/admin/v1/formats/nj-json?version=2');
    assert.match(await old.text(), /caseId/);
    for (const version of ['abc', '0', '-1', '1.5', '']) {
      const refused = await harness.admin('GET', `/admin/v1/formats/nj-json?version=${version}`);
      assert.equal(refused.status, 400, version);
      assert.equal(((await refused.json()) as { code: string }).code, 'XR_BAD_REQUEST');
    }
  });

  it('rolls back to a version an earlier gateway stored, even if a new document would now be refused', async function () {
    // An earlier version took documents without the required-field rule: one such is stored as it was.
    const lax = NJ_JSON.replace('        handleNo: handleNo\n', '').replace('nj-json', 'nj-lax');
    const stored = await harness.gateway.store.putFormat('nj-lax', lax);
    const put = await harness.admin('PUT', '/admin/v1/formats/nj-lax', lax, 'application/yaml');
    assert.equal(put.status, 400, 'the same document, put now, is refused');
    assert.equal((await harness.admin('PUT', '/admin/v1/formats/nj-lax', NJ_JSON.replace('nj-json', 'nj-lax'), 'application/yaml')).status, 200);
    const rollback = await harness.admin('POST', '/admin/v1/formats/nj-lax/rollback', { version: stored.version });
    assert.equal(rollback.status, 200, await rollback.clone().text());
    assert.match(await (await harness.admin('GET', '/admin/v1/formats/nj-lax')).text(), /caseNo: applyNo\n {8}state/);
  });

  it('rolls the first PUT of a shipped format back to the shipped document (version 0), and refuses a version that is not one', async function () {
    const shipped = readFileSync(path.resolve(import.meta.dirname, '../../adapters/formats/zj-xml.yaml'), 'utf8');
    const edited = shipped.replace(/^description: .*$/m, 'description: edited by an operator');
    assert.equal((await harness.admin('PUT', '/admin/v1/formats/zj-xml', edited, 'application/yaml')).status, 200);
    const history = await harness.gateway.store.formatHistory('zj-xml');
    for (const version of ['x', 1.5, -1, null, true]) {
      const refused = await harness.admin('POST', '/admin/v1/formats/zj-xml/rollback', { version });
      assert.equal(refused.status, 400, JSON.stringify(version));
      assert.equal((await refused.json() as { code: string }).code, 'XR_BAD_REQUEST');
    }
    assert.equal((await harness.admin('POST', '/admin/v1/formats/zj-xml/rollback', { version: 99 })).status, 404);
    assert.deepEqual(await harness.gateway.store.formatHistory('zj-xml'), history, 'nothing changed');

    const rollback = await harness.admin('POST', '/admin/v1/formats/zj-xml/rollback', {});
    assert.equal(rollback.status, 200, await rollback.clone().text());
    assert.deepEqual(await rollback.json(), { name: 'zj-xml', version: 2, restoredFrom: 0 });
    assert.equal(await (await harness.admin('GET', '/admin/v1/formats/zj-xml')).text(), shipped);
    assert.equal((await harness.admin('POST', '/admin/v1/formats/zj-xml/rollback', { version: 0 })).status, 200);
    assert.equal((await harness.admin('POST', '/admin/v1/formats/nj-json/rollback', { version: 0 })).status, 404, 'nj-json was never shipped');
  });

  it('translates a sample either way as a dry run, sending nothing', async function () {
    const calls = backend.calls.length;
    const toCanonical = await harness.admin('POST', '/admin/v1/formats/zj-xml/translate', {
      messageType: 'application.status', direction: 'request', from: 'partner',
      body: '<?xml version="1.0" encoding="UTF-8"?><RECORDS><RECORD><PROJID>3304002026112700002</PROJID><HANDLE_PROJID>HZ1</HANDLE_PROJID><STATE>6</STATE><TRANSACT_TIME>2026-11-28 15:00:00</TRANSACT_TIME><MEMO>请补正</MEMO></RECORD></RECORDS>',
    });
    assert.equal(toCanonical.status, 200, await toCanonical.clone().text());
    const result = await toCanonical.json() as { canonical: Record<string, unknown>; validation: { valid: boolean } };
    assert.equal(result.canonical.status, 'SUPPLEMENT_REQUIRED');
    assert.equal(result.validation.valid, true);

    const toPartner = await harness.admin('POST', '/admin/v1/formats/ah-xml/translate', {
      messageType: 'application.status', direction: 'response', from: 'canonical', body: { applyNo: '3401002026112700004', message: '已收到' },
    });
    const partner = await toPartner.json() as { partner: string; charset: string };
    assert.match(partner.partner, /<回执><办件编号>3401002026112700004<\/办件编号><说明>已收到<\/说明><\/回执>/);
    assert.equal(backend.calls.length, calls);
  });

  it('reports a validation failure in a dry run without refusing the translation', async function () {
    const response = await harness.admin('POST', '/admin/v1/formats/hz-json/translate', {
      messageType: 'application.status', direction: 'request', from: 'partner',
      body: JSON.stringify({ applyNo: '1', handleNo: 'H', status: 'DONE', statusAt: 'yesterday', remark: '' }),
    });
    const result = await response.json() as { validation: { valid: boolean; code: string; detail: string } };
    assert.equal(result.validation.valid, false);
    assert.equal(result.validation.code, 'XR_VALIDATION');
  });
});
