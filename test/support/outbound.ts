/**
 * Helpers for the outbound tests (PROTOCOL §6): canonical messages a local system would send to a partner,
 * registering a simulated partner gateway with a test gateway, posting to the local listener, and waiting
 * for the dispatcher's events — never for a fixed time.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MessageType } from '../../gateway/protocol/messages.ts';
import type { RunningGateway } from '../../gateway/server.ts';
import type { OutboundStatus } from '../../gateway/store/store.ts';
import { LOCAL_TOKEN, type TestGateway } from './gateway.ts';
import type { PartnerGateway } from './partner-gateway.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures');
/** Huzhou's Wuxing district: where a local system accepted the application. */
export const HUZHOU_DISTRICT = '330502';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

let serial = 0;

/** A valid canonical request of `messageType` to be handled in `handleRegion`, with a fresh applyNo. */
export function outboundMessage(messageType: MessageType, handleRegion: string): Record<string, unknown> {
  serial += 1;
  const applyNo = `${HUZHOU_DISTRICT}2026112${String(serial).padStart(6, '0')}`;
  switch (messageType) {
    case 'application.submit':
      return { ...fixture('sh-json/application.submit.request.canonical.json'), applyNo, acceptRegion: HUZHOU_DISTRICT, handleRegion };
    case 'application.status':
      return { ...fixture('sh-json/application.status.request.canonical.json'), applyNo };
    case 'licence.verify':
      return {
        verifyNo: applyNo, licenceNo: 'JY23305020012345',
        holder: { idType: '111', idNumber: '310117198506150033', name: '李明' }, requestedAt: '2026-11-27T10:00:00+08:00',
      };
    case 'evaluation.submit':
      return { applyNo, score: 5, comment: '办事快，服务好', evaluatedAt: '2026-11-29T10:00:00+08:00' };
  }
}

export interface PartnerRegistration {
  services?: MessageType[];
  delivery?: Record<string, number>;
  breaker?: Record<string, number>;
}

/** Registers the simulated partner (endpoint, format, trust anchor) with the gateway (its admin client). */
export async function registerPartner(gateway: Pick<TestGateway, 'admin'>, partner: PartnerGateway, registration: PartnerRegistration = {}): Promise<void> {
  const put = await gateway.admin('PUT', `/admin/v1/partners/${partner.region}`, {
    name: `partner ${partner.region}`,
    endpoint: partner.endpoint,
    format: partner.format.name,
    services: registration.services ?? ['application.submit', 'application.status', 'licence.verify', 'evaluation.submit'],
    ...(registration.delivery ? { delivery: registration.delivery } : {}),
    ...(registration.breaker ? { breaker: registration.breaker } : {}),
  });
  assert.equal(put.status, 200, await put.text());
  const trust = await gateway.admin('POST', `/admin/v1/partners/${partner.region}/trust`, partner.pki.caPem);
  assert.equal(trust.status, 201, await trust.text());
}

export interface LocalAnswer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** POST /local/v1/messages/{messageType} with the local token (or `token`), answering the parsed JSON. */
export async function sendLocal(
  localUrl: string,
  messageType: string,
  body: unknown,
  options: { headers?: Record<string, string>; token?: string | null; contentType?: string } = {},
): Promise<LocalAnswer> {
  const token = options.token === undefined ? LOCAL_TOKEN : options.token;
  const response = await fetch(`${localUrl}/local/v1/messages/${messageType}`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...options.headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() as Record<string, unknown> };
}

/** Sends and expects the 202; returns the message id. */
export async function queue(localUrl: string, messageType: MessageType, body: unknown, headers?: Record<string, string>): Promise<string> {
  const answer = await sendLocal(localUrl, messageType, body, headers === undefined ? {} : { headers });
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  assert.equal(answer.body.status, 'queued');
  return String(answer.body.id);
}

export async function statusOf(localUrl: string, id: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${localUrl}/local/v1/messages/${id}`, { headers: { authorization: `Bearer ${LOCAL_TOKEN}` } });
  assert.equal(response.status, 200);
  return await response.json() as Record<string, unknown>;
}

/** Waits until every message in `ids` is in one of `statuses` (already, or on a later settlement). */
export async function settled(gateway: RunningGateway, ids: readonly string[], statuses: readonly OutboundStatus[] = ['delivered']): Promise<void> {
  const waiting = new Set(ids);
  const check = ({ id, status }: { id: string; status: OutboundStatus }) => {
    if (statuses.includes(status)) waiting.delete(id);
  };
  const { events } = gateway.outbound;
  events.on('settled', check);
  try {
    for (const id of ids) {
      const message = await gateway.store.outboxGet(id);
      if (message && statuses.includes(message.status)) waiting.delete(id);
    }
    while (waiting.size > 0) await once(events, 'settled');
  } finally {
    events.off('settled', check);
  }
}

export type Settlement = { id: string; target: string; status: OutboundStatus; attempts: number; lastError: string | null };

/** Records every settlement from now on; `until` finds the first one matching, recorded already or still to come. */
export function watchSettlements(gateway: RunningGateway): { all: Settlement[]; until(id: string, status: OutboundStatus, attempts?: number): Promise<Settlement>; stop(): void } {
  const all: Settlement[] = [];
  const { events } = gateway.outbound;
  const record = (settlement: Settlement) => all.push(settlement);
  events.on('settled', record);
  return {
    all,
    async until(id, status, attempts) {
      const matches = (s: Settlement) => s.id === id && s.status === status && (attempts === undefined || s.attempts === attempts);
      for (;;) {
        const found = all.find(matches);
        if (found) return found;
        await once(events, 'settled');
      }
    },
    stop: () => events.off('settled', record),
  };
}
