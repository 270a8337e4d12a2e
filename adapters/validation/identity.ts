/**
 * Identity documents: which idType codes exist, which number each admits, and which documents a PERSON or an
 * ORG applicant may present (shared/fixtures/README.md, code tables).
 */
import type { ApplicationSubmitRequest, IdType } from '../canonical.ts';
import { creditCodeProblem } from './credit-code.ts';
import { idCardProblem } from './id-card.ts';
import { fieldPath, refuse } from './rules.ts';

const ID_TYPE_NAMES: Readonly<Record<IdType, string>> = {
  '111': '居民身份证',
  '414': '普通护照',
  '516': '港澳居民来往内地通行证',
  '511': '台湾居民来往大陆通行证',
  '553': '外国人永久居留身份证',
  '001': '统一社会信用代码',
};
export const ID_TYPES = Object.keys(ID_TYPE_NAMES) as IdType[];

/** The organisation document; every other idType identifies a natural person. */
const ORGANISATION_ID_TYPE: IdType = '001';

/**
 * Passports and travel permits have no check character the gateway could verify; their numbers are letters
 * and digits (HK/Macau permits and foreign residence cards add at most a hyphen or parentheses).
 */
const TRAVEL_DOCUMENT_NUMBER = /^[A-Za-z0-9][A-Za-z0-9()-]{0,31}$/;

/** Why `idNumber` cannot be the number of a document of `idType`, or null when it can. */
export function idNumberProblem(idType: IdType, idNumber: string): string | null {
  if (idType === '111') return idCardProblem(idNumber);
  if (idType === ORGANISATION_ID_TYPE) return creditCodeProblem(idNumber);
  return TRAVEL_DOCUMENT_NUMBER.test(idNumber)
    ? null
    : 'must be 1 to 32 letters or digits (hyphens and parentheses allowed after the first)';
}

/** Cross-field rule for any holder of a document: the number must fit the document type. */
export function checkIdNumber(holder: { idType: IdType; idNumber: string }, path: string): void {
  const problem = idNumberProblem(holder.idType, holder.idNumber);
  if (problem !== null) refuse(fieldPath(path, 'idNumber'), problem);
}

/** An ORG applicant is identified by its credit code; a PERSON by a personal document, never a credit code. */
export function checkApplicantIdentity(applicant: ApplicationSubmitRequest['applicant'], path: string): void {
  const isOrganisationDocument = applicant.idType === ORGANISATION_ID_TYPE;
  if (applicant.type === 'ORG' && !isOrganisationDocument) {
    refuse(fieldPath(path, 'idType'), `an ORG applicant must be identified by idType ${ORGANISATION_ID_TYPE} (${ID_TYPE_NAMES[ORGANISATION_ID_TYPE]}), got ${applicant.idType}`);
  }
  if (applicant.type === 'PERSON' && isOrganisationDocument) {
    refuse(fieldPath(path, 'idType'), `a PERSON applicant must present a personal document, not idType ${ORGANISATION_ID_TYPE} (${ID_TYPE_NAMES[ORGANISATION_ID_TYPE]})`);
  }
  checkIdNumber(applicant, path);
}
