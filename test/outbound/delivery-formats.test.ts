import assert from 'node:assert/strict';
import { FormatRegistry } from '../../adapters/index.ts';
import type { MessageType } from '../../gateway/protocol/messages.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { outboundMessage, queue, registerPartner, settled, statusOf } from '../support/outbound.ts';
import { PartnerGateway } from '../support/partner-gateway.ts';

const PARTNERS = [
  { region: '330100', format: 'hz-json' },
  { region: '310000', format: 'sh-json' },
  { region: '330400', format: 'zj-xml' },
  { region: '320500', format: 'js-xml' },
  { region: '340100', format: 'ah-xml' },
] as const;

const MESSAGE_TYPES: MessageType[] = ['application.submit', 'application.status', 'licence.verify', 'evaluation.submit'];

describe('outbound delivery (PROTOCOL §6): a local message reaches the partner in its own format', function () {
  let harness: TestGateway;
  const partners = new Map<string, PartnerGateway>();
  const formats = FormatRegistry.withShippedFormats();

  before(async function () {
    harness = await startTestGateway();
    for (const { region, format } of PARTNERS) {
      const partner = await PartnerGateway.start({ region, format, huzhouAdminUrl: harness.gateway.urls.admin });
      await registerPartner(harness, partner);
      partners.set(format, partner);
    }
  });

  after(async function () {
    await harness.stop();
    for (const partner of partners.values()) await partner.stop();
  });

  for (const { region, format } of PARTNERS) {
    it(`delivers every message type to a ${format} partner, signed, and keeps its verified receipt in canonical form`, async function () {
      const partner = partners.get(format)!;
      const sent = new Map<string, Record<string, unknown>>();
      for (const messageType of MESSAGE_TYPES) {
        const body = outboundMessage(messageType, region);
        const id = await queue(harness.gateway.urls.local, messageType, body, { 'x-xr-target-region': region });
        sent.set(id, body);
      }
      await settled(harness.gateway, [...sent.keys()]);

      for (const [id, body] of sent) {
        const received = partner.messages.get(id);
        assert.ok(received, `the partner has message ${id}, keyed by its id`);
        assert.deepEqual(received.canonical, body, 'the partner reads back exactly what the local system sent');
        const expected = await formats.get(format)!.fromCanonical(received.messageType, 'request', body);
        assert.deepEqual(received.body, expected, `the body is in ${format}`);
        const status = await statusOf(harness.gateway.urls.local, id);
        assert.equal(status.status, 'delivered');
        assert.equal(status.target, region);
        assert.equal(status.messageType, received.messageType);
        assert.equal(status.attempts, 1);
        assert.equal(status.lastError, null);
        const receipt = status.receipt as { status: number; body: Record<string, unknown>; verified: boolean };
        assert.equal(receipt.verified, true);
        assert.equal(receipt.status, received.answer.status);
        assert.deepEqual(receipt.body, await formats.get(format)!.toCanonical(received.messageType, 'response', received.answer.body));
      }
      assert.ok(partner.requests.every((request) => request.refusal === undefined), 'every request passed the partner\'s checks');
      assert.equal(partner.duplicates, 0);
    });
  }

  it('routes by the body\'s handleRegion when no target header is given, up to the partner city of a district', async function () {
    const partner = partners.get('js-xml')!;
    const id = await queue(harness.gateway.urls.local, 'application.submit', outboundMessage('application.submit', '320506'));
    await settled(harness.gateway, [id]);
    assert.ok(partner.messages.has(id));
    assert.equal((await statusOf(harness.gateway.urls.local, id)).target, '320500');
  });
});
