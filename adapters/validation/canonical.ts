/**
 * Validation of canonical messages (adapters/canonical.ts), for every message in either direction once it is
 * in canonical form and before it is forwarded. A refusal is XR_VALIDATION whose detail names the field.
 *
 * Unknown fields: a request with a field the canonical form does not define is refused, at every level
 * (applicant, materials, holder), because the mapping to a partner format would drop it silently, and a
 * silently dropped field is a silent mistranslation. Responses tolerate extra fields: they answer work that
 * is already done, refusing one would lose the receipt, and nothing downstream acts on a field it does not
 * know. `form` is free-form by design: any keys, string values.
 */
import type { Direction, MessageType } from '../../gateway/protocol/messages.ts';
import type {
  ApplicantType,
  ApplicationStatus,
  ApplicationStatusRequest,
  ApplicationStatusResponse,
  ApplicationSubmitRequest,
  ApplicationSubmitResponse,
  CanonicalMessage,
  EvaluationSubmitRequest,
  EvaluationSubmitResponse,
  LicenceVerifyRequest,
  LicenceVerifyResponse,
} from '../canonical.ts';
import type { RegionTable } from '../regions/index.ts';
import { checkApplicantIdentity, checkIdNumber, ID_TYPES } from './identity.ts';
import { material } from './material.ts';
import {
  boolean,
  type Check,
  calendarDate,
  integer,
  isFieldPath,
  knownRegion,
  line,
  list,
  oneOf,
  optional,
  phoneNumber,
  record,
  requiredFieldsOf,
  type RequiredFields,
  stringMap,
  text,
  timestamp,
} from './rules.ts';

const APPLICANT_TYPES = Object.keys({ PERSON: true, ORG: true } satisfies Record<ApplicantType, true>);
const APPLICATION_STATUSES = Object.keys({
  RECEIVED: true,
  ACCEPTED: true,
  REJECTED: true,
  SUPPLEMENT_REQUIRED: true,
  IN_PROGRESS: true,
  COMPLETED: true,
  WITHDRAWN: true,
} satisfies Record<ApplicationStatus, true>);

const idType = oneOf(ID_TYPES);
const status = oneOf(APPLICATION_STATUSES);

const applicationSubmitRequest = record<ApplicationSubmitRequest>({
  applyNo: line,
  itemCode: line,
  itemName: line,
  applicant: record<ApplicationSubmitRequest['applicant']>(
    { type: oneOf(APPLICANT_TYPES), name: line, idType, idNumber: line, mobile: phoneNumber },
    checkApplicantIdentity,
  ),
  acceptRegion: knownRegion,
  handleRegion: knownRegion,
  submittedAt: timestamp,
  // An empty list is allowed: whether an item needs materials is the backend's rule, not the exchange's.
  materials: list(material),
  form: stringMap,
});

const applicationSubmitResponse = record<ApplicationSubmitResponse>({
  applyNo: line,
  handleNo: line,
  status,
  receivedAt: timestamp,
  message: text,
});

const applicationStatusRequest = record<ApplicationStatusRequest>({
  applyNo: line,
  handleNo: line,
  status,
  statusAt: timestamp,
  remark: text,
  licenceNo: optional(line),
});

const applicationStatusResponse = record<ApplicationStatusResponse>({ applyNo: line, message: text });

const licenceVerifyRequest = record<LicenceVerifyRequest>({
  verifyNo: line,
  licenceNo: line,
  holder: record<LicenceVerifyRequest['holder']>({ idType, idNumber: line, name: line }, checkIdNumber),
  requestedAt: timestamp,
});

const licenceVerifyResponse = record<LicenceVerifyResponse>({
  verifyNo: line,
  licenceNo: line,
  valid: boolean,
  licenceName: optional(line),
  validUntil: optional(calendarDate),
  message: text,
});

const evaluationSubmitRequest = record<EvaluationSubmitRequest>({
  applyNo: line,
  score: integer(1, 5),
  comment: optional(text),
  evaluatedAt: timestamp,
});

const evaluationSubmitResponse = record<EvaluationSubmitResponse>({ applyNo: line, message: text });

const SHAPES: Readonly<Record<MessageType, Readonly<Record<Direction, Check>>>> = {
  'application.submit': { request: applicationSubmitRequest, response: applicationSubmitResponse },
  'application.status': { request: applicationStatusRequest, response: applicationStatusResponse },
  'licence.verify': { request: licenceVerifyRequest, response: licenceVerifyResponse },
  'evaluation.submit': { request: evaluationSubmitRequest, response: evaluationSubmitResponse },
};

/**
 * The fields every canonical `messageType` `direction` holds (a list's required item fields under the list's
 * name): what a partner format's mapping of it must carry both ways (adapters/engine/carried.ts).
 */
export function requiredCanonicalFields(messageType: MessageType, direction: Direction): RequiredFields {
  return requiredFieldsOf(SHAPES[messageType][direction]);
}

/** Whether `keys` name a field of the canonical `messageType` `direction` (`name[]` steps into a list's items). */
export function isCanonicalField(messageType: MessageType, direction: Direction, keys: readonly string[]): boolean {
  return isFieldPath(SHAPES[messageType][direction], keys);
}

/**
 * Checks that `doc` is a valid canonical `messageType` `direction` and returns it, typed and unchanged (not a
 * copy). Throws XrError XR_VALIDATION whose detail starts with the offending field's path.
 */
export function validateCanonical<T extends MessageType, D extends Direction>(
  messageType: T,
  direction: D,
  doc: unknown,
  regions: RegionTable,
): CanonicalMessage<T, D> {
  SHAPES[messageType][direction](doc, '', { regions, refuseUnknownFields: direction === 'request' });
  return doc as CanonicalMessage<T, D>;
}
