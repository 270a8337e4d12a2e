/**
 * A canonical message in the partner's own format (adapters/), as the bytes every attempt will send. Done
 * when a message is accepted — so one that cannot be translated is refused with XR_TRANSLATION before it is
 * stored — and again when an operator requeues it (the partner's format may have been corrected since).
 */
import type { CanonicalDocument } from '../../adapters/canonical.ts';
import type { Directory } from '../directory.ts';
import { XrError } from '../protocol/errors.ts';
import type { MessageType } from '../protocol/messages.ts';
import type { Partner } from '../store/store.ts';

export interface PartnerBody {
  partnerBody: Buffer;
  contentType: string;
}

export async function partnerBodyOf(directory: Directory, partner: Partner, messageType: MessageType, canonical: object): Promise<PartnerBody> {
  const format = directory.formatOf(partner);
  if (!format) throw new XrError('XR_TRANSLATION', `partner ${partner.region} is registered with format ${partner.format}, which the gateway does not have`);
  const partnerBody = await format.fromCanonical(messageType, 'request', canonical as CanonicalDocument);
  return { partnerBody, contentType: `${format.mediaType}; charset=${format.charset}` };
}
