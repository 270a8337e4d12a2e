import assert from 'node:assert/strict';
import type { Direction, MessageType } from '../../../gateway/protocol/messages.ts';
import { RegionTable } from '../../../adapters/regions/index.ts';
import { validateCanonical } from '../../../adapters/validation/canonical.ts';
import { assertRefused, ownSample, sample } from './fixtures.ts';

type Doc = Record<string, unknown>;

interface Refusal {
  /** Completes "refuses …". */
  what: string;
  messageType: MessageType;
  direction: Direction;
  change: (doc: Doc) => void;
  /** The path the detail must start with. */
  path: string;
}

function base(messageType: MessageType, direction: Direction): Doc {
  return messageType === 'licence.verify' || messageType === 'evaluation.submit'
    ? ownSample(messageType, direction)
    : sample('sh-json', messageType, direction);
}

const applicant = (doc: Doc) => doc['applicant'] as Doc;
const holder = (doc: Doc) => doc['holder'] as Doc;
const submit = 'application.submit';
const status = 'application.status';
const licence = 'licence.verify';
const evaluation = 'evaluation.submit';

const refusals: Refusal[] = [
  // application.submit request
  { what: 'a submission without applyNo', messageType: submit, direction: 'request', change: (d) => delete d['applyNo'], path: 'applyNo' },
  { what: 'an empty applyNo', messageType: submit, direction: 'request', change: (d) => (d['applyNo'] = ''), path: 'applyNo' },
  { what: 'a numeric applyNo', messageType: submit, direction: 'request', change: (d) => (d['applyNo'] = 3101172026112700001), path: 'applyNo' },
  { what: 'an itemName spanning two lines', messageType: submit, direction: 'request', change: (d) => (d['itemName'] = '食品\n经营'), path: 'itemName' },
  { what: 'an itemCode longer than 256 characters', messageType: submit, direction: 'request', change: (d) => (d['itemCode'] = 'x'.repeat(257)), path: 'itemCode' },
  { what: 'an itemName with a lone surrogate', messageType: submit, direction: 'request', change: (d) => (d['itemName'] = '食品\uD800'), path: 'itemName' },
  { what: 'an applicant that is a string', messageType: submit, direction: 'request', change: (d) => (d['applicant'] = '李明'), path: 'applicant' },
  { what: 'an applicant type other than PERSON or ORG', messageType: submit, direction: 'request', change: (d) => (applicant(d)['type'] = 'person'), path: 'applicant.type' },
  { what: 'an applicant without a name', messageType: submit, direction: 'request', change: (d) => delete applicant(d)['name'], path: 'applicant.name' },
  { what: 'an idType outside the code table', messageType: submit, direction: 'request', change: (d) => (applicant(d)['idType'] = '01'), path: 'applicant.idType' },
  { what: 'a numeric idType', messageType: submit, direction: 'request', change: (d) => (applicant(d)['idType'] = 111), path: 'applicant.idType' },
  { what: 'an identity number with a wrong check character', messageType: submit, direction: 'request', change: (d) => (applicant(d)['idNumber'] = '310117198506150034'), path: 'applicant.idNumber' },
  { what: 'an identity number with an impossible birth date', messageType: submit, direction: 'request', change: (d) => (applicant(d)['idNumber'] = '310117198502300035'), path: 'applicant.idNumber' },
  { what: 'an empty mobile', messageType: submit, direction: 'request', change: (d) => (applicant(d)['mobile'] = ''), path: 'applicant.mobile' },
  { what: 'a mobile with letters', messageType: submit, direction: 'request', change: (d) => (applicant(d)['mobile'] = '139-CALL-ME'), path: 'applicant.mobile' },
  { what: 'a mobile with a + in the middle', messageType: submit, direction: 'request', change: (d) => (applicant(d)['mobile'] = '86+13900000001'), path: 'applicant.mobile' },
  { what: 'an acceptRegion of five digits', messageType: submit, direction: 'request', change: (d) => (d['acceptRegion'] = '31011'), path: 'acceptRegion' },
  { what: 'an acceptRegion the region table does not know', messageType: submit, direction: 'request', change: (d) => (d['acceptRegion'] = '990000'), path: 'acceptRegion' },
  { what: 'a numeric handleRegion', messageType: submit, direction: 'request', change: (d) => (d['handleRegion'] = 330502), path: 'handleRegion' },
  { what: 'a submittedAt without an offset', messageType: submit, direction: 'request', change: (d) => (d['submittedAt'] = '2026-11-27T09:30:01'), path: 'submittedAt' },
  { what: 'a submittedAt on 30 February', messageType: submit, direction: 'request', change: (d) => (d['submittedAt'] = '2026-02-30T09:30:01+08:00'), path: 'submittedAt' },
  { what: 'materials that are an object', messageType: submit, direction: 'request', change: (d) => (d['materials'] = {}), path: 'materials' },
  { what: 'a form that is a list', messageType: submit, direction: 'request', change: (d) => (d['form'] = []), path: 'form' },
  { what: 'a form value that is a number', messageType: submit, direction: 'request', change: (d) => ((d['form'] as Doc)['area'] = 35.5), path: 'form.area' },
  { what: 'a form with an empty key', messageType: submit, direction: 'request', change: (d) => ((d['form'] as Doc)[''] = 'x'), path: 'form[""]' },
  { what: 'a form value with a NUL character', messageType: submit, direction: 'request', change: (d) => ((d['form'] as Doc)['shopName'] = 'a\u0000b'), path: 'form.shopName' },
  { what: 'a top-level field the canonical form does not define', messageType: submit, direction: 'request', change: (d) => (d['channel'] = 'web'), path: 'channel' },
  { what: 'an applicant field the canonical form does not define', messageType: submit, direction: 'request', change: (d) => (applicant(d)['email'] = 'a@b.cn'), path: 'applicant.email' },
  // application.submit response
  { what: 'a receipt without handleNo', messageType: submit, direction: 'response', change: (d) => delete d['handleNo'], path: 'handleNo' },
  { what: 'a receipt status outside the seven canonical statuses', messageType: submit, direction: 'response', change: (d) => (d['status'] = 'SUPPLEMENT'), path: 'status' },
  { what: 'a receipt with a partner status code', messageType: submit, direction: 'response', change: (d) => (d['status'] = '01'), path: 'status' },
  { what: 'a receipt with receivedAt as epoch seconds', messageType: submit, direction: 'response', change: (d) => (d['receivedAt'] = 1795743060), path: 'receivedAt' },
  { what: 'a receipt message that is null', messageType: submit, direction: 'response', change: (d) => (d['message'] = null), path: 'message' },
  // application.status request and response
  { what: 'a status change with an unknown status', messageType: status, direction: 'request', change: (d) => (d['status'] = 'DONE'), path: 'status' },
  { what: 'a status change with statusAt in a space-separated form', messageType: status, direction: 'request', change: (d) => (d['statusAt'] = '2026-11-28 15:00:00'), path: 'statusAt' },
  { what: 'a status change whose licenceNo is null', messageType: status, direction: 'request', change: (d) => (d['licenceNo'] = null), path: 'licenceNo' },
  { what: 'a status change without remark', messageType: status, direction: 'request', change: (d) => delete d['remark'], path: 'remark' },
  { what: 'a status change with a field the canonical form does not define', messageType: status, direction: 'request', change: (d) => (d['licenceno'] = 'x'), path: 'licenceno' },
  { what: 'a status acknowledgement without applyNo', messageType: status, direction: 'response', change: (d) => delete d['applyNo'], path: 'applyNo' },
  // licence.verify request and response
  { what: 'a licence check without a holder', messageType: licence, direction: 'request', change: (d) => delete d['holder'], path: 'holder' },
  { what: 'a licence check whose holder credit code has a wrong check character', messageType: licence, direction: 'request', change: (d) => (holder(d)['idNumber'] = '91310115591693856B'), path: 'holder.idNumber' },
  { what: 'a licence check whose holder idType is unknown', messageType: licence, direction: 'request', change: (d) => (holder(d)['idType'] = '999'), path: 'holder.idType' },
  { what: 'a licence check with requestedAt in UTC without Z', messageType: licence, direction: 'request', change: (d) => (d['requestedAt'] = '2026-11-27T01:30:00'), path: 'requestedAt' },
  { what: 'a licence check without licenceNo', messageType: licence, direction: 'request', change: (d) => delete d['licenceNo'], path: 'licenceNo' },
  { what: 'a licence answer whose valid is the string "true"', messageType: licence, direction: 'response', change: (d) => (d['valid'] = 'true'), path: 'valid' },
  { what: 'a licence answer whose validUntil is not a calendar date', messageType: licence, direction: 'response', change: (d) => (d['validUntil'] = '2031-02-29'), path: 'validUntil' },
  { what: 'a licence answer with an empty licenceName', messageType: licence, direction: 'response', change: (d) => (d['licenceName'] = ''), path: 'licenceName' },
  // evaluation.submit request and response
  { what: 'a score of 0', messageType: evaluation, direction: 'request', change: (d) => (d['score'] = 0), path: 'score' },
  { what: 'a score of 6', messageType: evaluation, direction: 'request', change: (d) => (d['score'] = 6), path: 'score' },
  { what: 'a score of 4.5', messageType: evaluation, direction: 'request', change: (d) => (d['score'] = 4.5), path: 'score' },
  { what: 'a score written as a string', messageType: evaluation, direction: 'request', change: (d) => (d['score'] = '5'), path: 'score' },
  { what: 'a comment that is a number', messageType: evaluation, direction: 'request', change: (d) => (d['comment'] = 5), path: 'comment' },
  { what: 'an evaluation without evaluatedAt', messageType: evaluation, direction: 'request', change: (d) => delete d['evaluatedAt'], path: 'evaluatedAt' },
  { what: 'an evaluation acknowledgement without message', messageType: evaluation, direction: 'response', change: (d) => delete d['message'], path: 'message' },
];

describe('refusing canonical fields that break a rule', () => {
  const regions = RegionTable.default();

  for (const { what, messageType, direction, change, path } of refusals) {
    it(`refuses ${what} (${messageType} ${direction}) with XR_VALIDATION naming ${path}`, () => {
      const doc = base(messageType, direction);
      change(doc);
      assertRefused(() => validateCanonical(messageType, direction, doc, regions), path);
    });
  }

  it('covers every message type in both directions', () => {
    const covered = new Set(refusals.map((refusal) => `${refusal.messageType} ${refusal.direction}`));
    assert.equal(covered.size, 8);
  });

  it('accepts an empty remark, message and form value, which are free text', () => {
    const change = sample('zj-xml', 'application.status', 'request');
    change['remark'] = '';
    assert.equal(validateCanonical('application.status', 'request', change, regions), change);
    const submission = sample('zj-xml', 'application.submit', 'request');
    submission['form'] = { shopName: '', note: '第一行\n第二行\t结束' };
    assert.equal(validateCanonical('application.submit', 'request', submission, regions), submission);
  });

  it('accepts names written with characters outside the Basic Multilingual Plane, as rare surnames are', () => {
    const submission = sample('sh-json', 'application.submit', 'request');
    applicant(submission)['name'] = '𠀀明';
    assert.equal(validateCanonical('application.submit', 'request', submission, regions), submission);
  });

  it('accepts international and landline phone numbers', () => {
    for (const mobile of ['+85291234567', '0572-2345678', '(0572) 234 5678', '051200000003']) {
      const submission = sample('sh-json', 'application.submit', 'request');
      applicant(submission)['mobile'] = mobile;
      assert.equal(validateCanonical('application.submit', 'request', submission, regions), submission, mobile);
    }
  });

  it('accepts a province-level region such as 310000 as acceptRegion', () => {
    const submission = sample('sh-json', 'application.submit', 'request');
    submission['acceptRegion'] = '310000';
    assert.equal(validateCanonical('application.submit', 'request', submission, regions), submission);
  });

  it('tolerates fields it does not know in responses and returns them untouched', () => {
    const receipt = sample('sh-json', 'application.submit', 'response');
    receipt['trackingUrl'] = 'https://example.invalid/track';
    assert.equal(validateCanonical('application.submit', 'response', receipt, regions), receipt);
  });

  it('does not repeat the wrong identity number in the detail', () => {
    const submission = sample('sh-json', 'application.submit', 'request');
    applicant(submission)['idNumber'] = '310117198506150034';
    const detail = assertRefused(() => validateCanonical('application.submit', 'request', submission, regions), 'applicant.idNumber');
    assert.equal(detail, 'applicant.idNumber: check character is 4, expected 3');
  });

  it('does not repeat a long unknown field name in full', () => {
    const submission = sample('sh-json', 'application.submit', 'request');
    submission[`x-${'y'.repeat(10_000)}`] = 1;
    const detail = assertRefused(() => validateCanonical('application.submit', 'request', submission, regions), `["x-${'y'.repeat(38)}…"]`);
    assert.ok(detail.length < 200, detail);
  });
});
