/**
 * A partner's answer to a message Huzhou sent (PROTOCOL §2, §6): signed by that partner, addressed to Huzhou,
 * answering exactly this attempt (`irt` = the attempt's `jti`). Only such an answer can make a message
 * delivered or failed; anything else is a failed attempt, retried.
 */
import { parseSignatureHeader, verifyDetached, type XrProtectedHeader } from '../../certs/jws.ts';
import type { SignaturePlacement } from '../../certs/signature.ts';
import type { TrustStore } from '../../certs/trust-store.ts';
import { XrError } from '../protocol/errors.ts';
import { excessClockSkew, type SignatureAlgorithm } from '../protocol/messages.ts';

export interface AnswerExpectation {
  ownRegion: string;
  /** The partner the message went to: the only acceptable signer. */
  partner: string;
  /** The jti of the attempt's request signature. */
  requestJti: string;
  algorithms: readonly SignatureAlgorithm[];
  /** Where signatures are computed (certs/signature.ts): inline or on libuv's pool. */
  signatures: SignaturePlacement;
  trust: TrustStore;
  /** The gateway's clock in milliseconds (the skew check is exact to it, as for requests). */
  nowMs: number;
}

export async function verifyPartnerAnswer(signature: string | undefined, body: Buffer, expected: AnswerExpectation): Promise<XrProtectedHeader> {
  const parsed = parseSignatureHeader(signature, expected.algorithms);
  const { header } = parsed;
  if (header.iss !== expected.partner) throw new XrError('XR_PARTNER_UNKNOWN', `the answer is signed by ${header.iss}, not by ${expected.partner}`);
  if (header.aud !== expected.ownRegion) throw new XrError('XR_AUDIENCE', `the answer's aud ${header.aud} is not ${expected.ownRegion}`);
  if (header.irt !== expected.requestJti) throw new XrError('XR_BINDING', `the answer's irt ${String(header.irt)} is not this attempt's jti ${expected.requestJti}`);
  const signerKey = expected.trust.resolveSigner(header.iss, header.kid, header.x5c, new Date(expected.nowMs));
  await verifyDetached(parsed, body, signerKey, expected.signatures);
  const skew = excessClockSkew(expected.nowMs, header.iat);
  if (skew !== undefined) throw new XrError('XR_CLOCK_SKEW', `the answer's iat is ${skew.toFixed(3)} s from the gateway's clock`);
  return header;
}
