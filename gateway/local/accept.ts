/**
 * The local → partner accept path (PROTOCOL §6), as a list of named stages:
 *
 *   validate        (the canonical request: check digits, regions, materials — as inbound)
 *   → resolve target (X-XR-Target-Region, else the body's handleRegion)
 *   → authorise      (the partner takes this message type)
 *   → translate      (canonical → the partner's format, now: an untranslatable message is refused here)
 *   → store          (the outbox, committed to disk before the 202)
 *
 * Every stage throws an XrError to refuse, and a refused message leaves nothing behind. Delivery is the
 * dispatcher's (gateway/outbound/dispatcher.ts), woken once the message is stored.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { RegionTable } from '../../adapters/regions/index.ts';
import { validateCanonical } from '../../adapters/validation/canonical.ts';
import type { Directory } from '../directory.ts';
import { partnerBodyOf } from '../outbound/partner-body.ts';
import { XrError } from '../protocol/errors.ts';
import { REGION_CODE, type MessageType } from '../protocol/messages.ts';
import type { OutboundSummary, Partner, Store } from '../store/store.ts';

export interface AcceptDeps {
  ownRegion: string;
  directory: Directory;
  regions: RegionTable;
  store: Store;
  nowMs(): number;
  /** Called once a message is stored, before the 202: wakes the dispatcher, records the acceptance. */
  onQueued(queued: QueuedMessage): void;
}

/** What was committed to the outbox, for the dispatcher and the audit trail. */
export interface QueuedMessage {
  id: string;
  target: string;
  messageType: MessageType;
  canonical: string;
  partnerBody: Buffer;
}

export interface LocalSubmission {
  messageType: MessageType;
  /** X-XR-Target-Region, if given. */
  targetRegion: string | undefined;
  document: Record<string, unknown>;
  /** The local system's Idempotency-Key, if given: a retried POST with it is not queued twice. */
  idempotencyKey: string | undefined;
}

export interface Accepted {
  message: OutboundSummary;
  /** True when the idempotency key had been used before for this same message: nothing new was stored. */
  replayed: boolean;
}

/** Printable ASCII, as HTTP header values and the idempotency-key draft expect, and bounded. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The partner that handles a region: the region itself, else its prefecture, else its province (GB/T 2260
 * codes nest: 310117 → 310100 → 310000), so a handleRegion naming a district reaches its city's gateway.
 * An explicit X-XR-Target-Region must name a partner exactly.
 */
function resolveTarget(submission: LocalSubmission, deps: AcceptDeps): Partner {
  const { targetRegion, document } = submission;
  if (targetRegion !== undefined) {
    if (!REGION_CODE.test(targetRegion)) throw new XrError('XR_BAD_REQUEST', `X-XR-Target-Region "${targetRegion.slice(0, 20)}" is not a six-digit region code`);
    const partner = deps.directory.partner(targetRegion);
    if (!partner) throw new XrError('XR_PARTNER_UNKNOWN', `${targetRegion} is not a registered partner`);
    return partner;
  }
  const { handleRegion } = document;
  if (typeof handleRegion !== 'string') {
    throw new XrError('XR_BAD_REQUEST', `${submission.messageType} names no handleRegion: give the partner in X-XR-Target-Region`);
  }
  const candidates = [handleRegion, `${handleRegion.slice(0, 4)}00`, `${handleRegion.slice(0, 2)}0000`];
  if (candidates.includes(deps.ownRegion)) throw new XrError('XR_BAD_REQUEST', `handleRegion ${handleRegion} is in Huzhou's own region: not a message for a partner`);
  for (const region of new Set(candidates)) {
    const partner = deps.directory.partner(region);
    if (partner) return partner;
  }
  throw new XrError('XR_PARTNER_UNKNOWN', `no registered partner handles region ${handleRegion}`);
}

function authorise(partner: Partner, messageType: MessageType): void {
  if (!partner.services.includes(messageType)) {
    throw new XrError('XR_SERVICE_NOT_ALLOWED', `partner ${partner.region} does not take ${messageType}`);
  }
}

export async function acceptLocalMessage(submission: LocalSubmission, deps: AcceptDeps): Promise<Accepted> {
  const { messageType, idempotencyKey } = submission;
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new XrError('XR_BAD_REQUEST', 'an idempotency key is 1 to 255 printable ASCII characters');
  }
  validateCanonical(messageType, 'request', submission.document, deps.regions);
  const partner = resolveTarget(submission, deps);
  authorise(partner, messageType);
  const body = await partnerBodyOf(deps.directory, partner, messageType, submission.document);

  const canonical = JSON.stringify(submission.document);
  const stored = await deps.store.outboxEnqueue({
    id: randomUUID(),
    target: partner.region,
    messageType,
    canonical,
    ...body,
    ...(idempotencyKey === undefined ? {} : {
      idempotency: { key: idempotencyKey, requestDigest: createHash('sha256').update(`${messageType}\n${partner.region}\n${canonical}`).digest('hex') },
    }),
    nowMs: deps.nowMs(),
  });
  if (stored.outcome === 'key-reused') {
    throw new XrError('XR_REPLAY', `idempotency key ${idempotencyKey} was already used for another message (${stored.message.id})`);
  }
  if (stored.outcome === 'created') {
    deps.onQueued({ id: stored.message.id, target: partner.region, messageType, canonical, partnerBody: body.partnerBody });
  }
  return { message: stored.message, replayed: stored.outcome === 'duplicate' };
}
