/**
 * One gateway with real traffic around it, for the operations tests: a simulated backend, an inbound partner
 * city (320500, hz-json) whose signed messages the tests send, and an outbound partner gateway (310117,
 * sh-json) that receives what Huzhou's local systems queue. Everything on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ChainedAuditRecord } from '../../gateway/audit/audit-log.ts';
import type { GatewayOptions } from '../../gateway/server.ts';
import { SimulatedBackend } from '../support/backend.ts';
import { ADMIN_TOKEN, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { PartnerGateway } from '../support/partner-gateway.ts';
import { postSigned, requestHeader, signRaw, type HeaderMembers, type SentMessage } from '../support/partner-client.ts';
import { makePartnerPki, type PartnerPki } from '../support/pki.ts';
import { registerPartner } from '../support/outbound.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures');
export const INBOUND_PARTNER = '320500';
export const OUTBOUND_PARTNER = '310117';

/** A canonical application.submit with a company applicant: its name and credit code must never reach the audit log. */
export const SUBMIT = JSON.parse(readFileSync(path.join(FIXTURES, 'js-xml/application.submit.request.canonical.json'), 'utf8')) as {
  applyNo: string; applicant: { name: string; idNumber: string; mobile: string }; materials: Array<{ content: string }>;
} & Record<string, unknown>;
export const STATUS = JSON.parse(readFileSync(path.join(FIXTURES, 'js-xml/application.status.request.canonical.json'), 'utf8')) as { applyNo: string } & Record<string, unknown>;

export interface SentInbound {
  header: HeaderMembers;
  /** The bytes signed, and the bytes sent (different when tampered). */
  raw: Buffer;
  sent: Buffer;
  signature: string;
  answer: SentMessage;
}

export interface AuditPage {
  records: ChainedAuditRecord[];
  nextBefore: number | null;
}

export interface OperationsRig {
  harness: TestGateway;
  backend: SimulatedBackend;
  inbound: PartnerPki;
  outbound: PartnerGateway;
  /** Signs and sends a message as the inbound partner; `tamper` changes the bytes after signing. */
  send(body: unknown, options?: { messageType?: string; tamper?: (raw: Buffer) => Buffer; header?: HeaderMembers }): Promise<SentInbound>;
  /** GET /admin/v1/audit with `query`, as the operator unless `token` says otherwise. */
  audit(query: Record<string, string | number>, token?: string): Promise<AuditPage>;
  stop(): Promise<void>;
}

export async function startOperationsRig(env: Record<string, string> = {}, options: Omit<GatewayOptions, 'settings'> = {}): Promise<OperationsRig> {
  const backend = await SimulatedBackend.start();
  const harness = await startTestGateway({ XR_LOCAL_BACKEND_URL: backend.url, ...env }, options);
  const inbound = await makePartnerPki(INBOUND_PARTNER);
  const put = await harness.admin('PUT', `/admin/v1/partners/${INBOUND_PARTNER}`, {
    name: 'partner 320500', endpoint: 'http://127.0.0.1:9', format: 'hz-json',
    services: ['application.submit', 'application.status', 'licence.verify', 'evaluation.submit'],
  });
  assert.equal(put.status, 200, await put.text());
  assert.equal((await harness.admin('POST', `/admin/v1/partners/${INBOUND_PARTNER}/trust`, inbound.caPem)).status, 201);
  const outbound = await PartnerGateway.start({ region: OUTBOUND_PARTNER, format: 'sh-json', huzhouAdminUrl: harness.gateway.urls.admin });
  await registerPartner(harness, outbound);

  return {
    harness,
    backend,
    inbound,
    outbound,
    async send(body, options = {}) {
      const messageType = options.messageType ?? 'application.submit';
      const raw = Buffer.from(JSON.stringify(body), 'utf8');
      const header = options.header ?? requestHeader(inbound.signer, { iss: INBOUND_PARTNER, messageType });
      const signature = signRaw(header, raw, inbound.signer.privateKey, String(header.alg));
      const sent = (options.tamper ?? ((b) => b))(raw);
      const answer = await postSigned(harness.gateway.urls.partner, messageType, sent, 'application/json', signature);
      return { header, raw, sent, signature, answer };
    },
    async audit(query, token = ADMIN_TOKEN) {
      const search = new URLSearchParams(Object.entries(query).map(([name, value]) => [name, String(value)]));
      const response = await fetch(`${harness.gateway.urls.admin}/admin/v1/audit?${search}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200, await response.clone().text());
      return await response.json() as AuditPage;
    },
    async stop() {
      await harness.stop();
      await outbound.stop();
      await backend.stop();
    },
  };
}
