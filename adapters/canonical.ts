/**
 * Huzhou's canonical message forms (shared/fixtures/README.md), one request and one response shape per
 * XR/1 message type. licence.verify and evaluation.submit are this project's own definitions
 * (docs/canonical.md).
 */
import type { Direction, MessageType } from '../gateway/protocol/messages.ts';

export type IdType = '111' | '414' | '516' | '511' | '553' | '001';
export type ApplicantType = 'PERSON' | 'ORG';
export type ApplicationStatus =
  | 'RECEIVED' | 'ACCEPTED' | 'REJECTED' | 'SUPPLEMENT_REQUIRED' | 'IN_PROGRESS' | 'COMPLETED' | 'WITHDRAWN';

export interface Material {
  code: string;
  name: string;
  mediaType: string;
  /** Lower-case hex SHA-256 of the decoded content. */
  sha256: string;
  /** Bytes of the decoded content. */
  size: number;
  /** Base64. */
  content: string;
}

export interface ApplicationSubmitRequest {
  applyNo: string;
  itemCode: string;
  itemName: string;
  applicant: { type: ApplicantType; name: string; idType: IdType; idNumber: string; mobile: string };
  acceptRegion: string;
  handleRegion: string;
  /** RFC 3339 with +08:00. */
  submittedAt: string;
  materials: Material[];
  form: Record<string, string>;
}

export interface ApplicationSubmitResponse {
  applyNo: string;
  handleNo: string;
  status: ApplicationStatus;
  receivedAt: string;
  message: string;
}

export interface ApplicationStatusRequest {
  applyNo: string;
  handleNo: string;
  status: ApplicationStatus;
  statusAt: string;
  remark: string;
  licenceNo?: string;
}

export interface ApplicationStatusResponse {
  applyNo: string;
  message: string;
}

/** An e-licence check: is licence `licenceNo` valid and held by this person or organisation? */
export interface LicenceVerifyRequest {
  verifyNo: string;
  licenceNo: string;
  holder: { idType: IdType; idNumber: string; name: string };
  /** RFC 3339 with +08:00. */
  requestedAt: string;
}

export interface LicenceVerifyResponse {
  verifyNo: string;
  licenceNo: string;
  valid: boolean;
  licenceName?: string;
  /** The last day the licence is valid, a calendar date `YYYY-MM-DD` (partner formats carry a date). */
  validUntil?: string;
  message: string;
}

/** A 好差评 evaluation of a handled application: score 1 (worst) to 5 (best). */
export interface EvaluationSubmitRequest {
  applyNo: string;
  /** An integer, 1 to 5. */
  score: number;
  comment?: string;
  /** RFC 3339 with +08:00. */
  evaluatedAt: string;
}

export interface EvaluationSubmitResponse {
  applyNo: string;
  message: string;
}

export interface CanonicalForms {
  'application.submit': { request: ApplicationSubmitRequest; response: ApplicationSubmitResponse };
  'application.status': { request: ApplicationStatusRequest; response: ApplicationStatusResponse };
  'licence.verify': { request: LicenceVerifyRequest; response: LicenceVerifyResponse };
  'evaluation.submit': { request: EvaluationSubmitRequest; response: EvaluationSubmitResponse };
}

export type CanonicalMessage<T extends MessageType = MessageType, D extends Direction = Direction> = CanonicalForms[T][D];

/** Canonical messages as they travel inside the gateway before validation has given them a type. */
export type CanonicalDocument = Record<string, unknown>;
