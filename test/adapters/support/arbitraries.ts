/**
 * fast-check generators of valid canonical messages (docs/canonical.md) with awkward text: Chinese, rare
 * and astral-plane characters (䶮, 𠀀, 😀), XML-special characters (< > & " ' ]]>) and whitespace. Only
 * characters XML 1.0 can carry are generated: the others are a translation error, tested on their own.
 */
import fc from 'fast-check';
import type { Direction, MessageType } from '../../../gateway/protocol/messages.ts';
import { isPrototypeName } from '../../../adapters/engine/hardening.ts';

const character = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((code) => String.fromCodePoint(code)) },
  { weight: 2, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCodePoint(code)) },
  { weight: 2, arbitrary: fc.constantFrom('<', '>', '&', '"', "'", ']]>', '&amp;', '&#x41;', ' ', '\t', '\n', '\r', '\r\n') },
  { weight: 2, arbitrary: fc.constantFrom('䶮', '𠀀', '𪚥', '𤭢', '😀', '〇', '・', '€', '\uFFFD', '\u00A0', '\u3000') },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x2ffff }).map((code) => String.fromCodePoint(code)) },
);

export const text = fc.array(character, { maxLength: 10 }).map((characters) => characters.join(''));
/** An optional field's value: never "", since an optional field without a value is left out (docs/canonical.md). */
const optionalText = fc.array(character, { minLength: 1, maxLength: 10 }).map((characters) => characters.join(''));

/** fast-check 4 builds null-prototype objects by default; canonical documents are plain JSON objects. */
const PLAIN = { noNullPrototype: true } as const;

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** A Beijing wall-clock time in whole seconds, any year a partner's four digits can carry, written as the canonical form writes it. */
export const beijingTime = fc.date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true })
  .map((date) => {
    const beijing = new Date(date.getTime() + 8 * 3_600_000);
    return `${pad(beijing.getUTCFullYear(), 4)}-${pad(beijing.getUTCMonth() + 1)}-${pad(beijing.getUTCDate())}T`
      + `${pad(beijing.getUTCHours())}:${pad(beijing.getUTCMinutes())}:${pad(beijing.getUTCSeconds())}+08:00`;
  });

export const calendarDate = beijingTime.map((time) => time.slice(0, 10));

const idType = fc.constantFrom('111', '414', '516', '511', '553', '001');
const status = fc.constantFrom('RECEIVED', 'ACCEPTED', 'REJECTED', 'SUPPLEMENT_REQUIRED', 'IN_PROGRESS', 'COMPLETED', 'WITHDRAWN');

const material = fc.record({
  code: text,
  name: text,
  mediaType: text,
  sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
  size: fc.oneof(fc.nat(1_000_000), fc.constant(Number.MAX_SAFE_INTEGER)),
  content: fc.base64String({ maxLength: 40 }),
}, PLAIN);

/** One material, which exercises the one-element XML shape, or any number including none. */
const materials = fc.oneof(fc.array(material, { minLength: 1, maxLength: 1 }), fc.array(material, { maxLength: 4 }));

const form = fc.dictionary(text.filter((key) => !isPrototypeName(key)), text, { maxKeys: 5, noNullPrototype: true });

const holder = fc.record({ idType, idNumber: text, name: text }, PLAIN);

export const canonicalMessages: Record<MessageType, Record<Direction, fc.Arbitrary<Record<string, unknown>>>> = {
  'application.submit': {
    request: fc.record({
      applyNo: text, itemCode: text, itemName: text,
      applicant: fc.record({ type: fc.constantFrom('PERSON', 'ORG'), name: text, idType, idNumber: text, mobile: text }, PLAIN),
      acceptRegion: text, handleRegion: text, submittedAt: beijingTime, materials, form,
    }, PLAIN),
    response: fc.record({ applyNo: text, handleNo: text, status, receivedAt: beijingTime, message: text }, PLAIN),
  },
  'application.status': {
    request: fc.record(
      { applyNo: text, handleNo: text, status, statusAt: beijingTime, remark: text, licenceNo: optionalText },
      { requiredKeys: ['applyNo', 'handleNo', 'status', 'statusAt', 'remark'], noNullPrototype: true },
    ),
    response: fc.record({ applyNo: text, message: text }, PLAIN),
  },
  'licence.verify': {
    request: fc.record({ verifyNo: text, licenceNo: text, holder, requestedAt: beijingTime }, PLAIN),
    response: fc.record(
      { verifyNo: text, licenceNo: text, valid: fc.boolean(), licenceName: optionalText, validUntil: calendarDate, message: text },
      { requiredKeys: ['verifyNo', 'licenceNo', 'valid', 'message'], noNullPrototype: true },
    ),
  },
  'evaluation.submit': {
    request: fc.record(
      { applyNo: text, score: fc.integer({ min: 1, max: 5 }), comment: optionalText, evaluatedAt: beijingTime },
      { requiredKeys: ['applyNo', 'score', 'evaluatedAt'], noNullPrototype: true },
    ),
    response: fc.record({ applyNo: text, message: text }, PLAIN),
  },
};
