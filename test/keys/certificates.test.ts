import assert from 'node:assert/strict';
import { capturingLogger, makeAuthority } from '../support/keys.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const PARTNER = '320500';
const DAY_MS = 86_400_000;

interface Expiry { scope: string; region: string; kid: string; subject: string; daysLeft: number }
interface Warning extends Expiry { warning: string; message: string }

describe('certificate expiry: every certificate with days left, and a warning 30 days ahead', function () {
  // A few seconds behind the real clock, by which the development PKI is dated: its days left are whole.
  let now = Date.now() - 5_000;
  let harness: TestGateway;
  const { log, lines } = capturingLogger();

  before(async function () {
    harness = await startTestGateway({}, { nowMs: () => now, log });
    const shortLived = await makeAuthority('CN=Short-lived CA,O=Suzhou,C=CN', { notAfter: new Date(now + 10 * DAY_MS + 3_600_000) });
    assert.equal((await harness.admin('PUT', `/admin/v1/partners/${PARTNER}`, { name: '苏州', endpoint: 'http://127.0.0.1:9', format: 'hz-json', services: ['application.status'] })).status, 200);
    assert.equal((await harness.admin('POST', `/admin/v1/partners/${PARTNER}/trust`, shortLived.pem)).status, 201);
  });

  after(async function () {
    await harness.stop();
  });

  const certificates = async () => (await (await harness.admin('GET', '/admin/v1/certificates')).json()) as { certificates: Expiry[]; warnings: Warning[] };
  const health = async () => {
    const response = await fetch(`${harness.gateway.urls.admin}/healthz`);
    return { status: response.status, body: (await response.json()) as { status: string; warnings: Warning[] } };
  };

  it('lists Huzhou\'s signing chain and the partners\' anchors with days left, soonest first', async function () {
    const { certificates: listed } = await certificates();
    assert.deepEqual(listed.map(({ scope, region, daysLeft }) => ({ scope, region, daysLeft })), [
      { scope: 'partner', region: PARTNER, daysLeft: 10 },
      { scope: 'signing', region: '330500', daysLeft: 730 },
      { scope: 'signing', region: '330500', daysLeft: 3650 },
    ]);
  });

  it('warns about a certificate with 30 days or fewer left: in /admin/v1/certificates, in /healthz (still 200) and in the log', async function () {
    const { warnings } = await certificates();
    assert.deepEqual(warnings.map(({ warning, region, daysLeft }) => ({ warning, region, daysLeft })), [{ warning: 'certificate-expiring', region: PARTNER, daysLeft: 10 }]);
    assert.match(warnings[0]!.message, /^trust anchor of region 320500 CN=Short-lived CA, O=Suzhou, C=CN expires in 10 days/);
    const { status, body } = await health();
    assert.equal(status, 200);
    assert.deepEqual(body.warnings, warnings);

    await harness.restart();
    const logged = lines.map((line) => JSON.parse(line) as { level: number; msg: string; daysLeft?: number }).filter((line) => line.level === 40 && line.daysLeft !== undefined);
    assert.deepEqual(logged.map((line) => line.msg), [warnings[0]!.message]);
  });

  it('warns about Huzhou\'s own certificate as its end nears, and says when one has expired', async function () {
    now += (730 - 20) * DAY_MS;
    const { warnings } = (await health()).body;
    assert.deepEqual(warnings.map(({ scope, warning, daysLeft }) => ({ scope, warning, daysLeft })), [
      { scope: 'partner', warning: 'certificate-expired', daysLeft: -700 },
      { scope: 'signing', warning: 'certificate-expiring', daysLeft: 20 },
    ]);
    assert.match(warnings[0]!.message, /expired on/);
  });
});
