import assert from 'node:assert/strict';
import { RegionTable } from '../../../adapters/regions/index.ts';
import { validateCanonical } from '../../../adapters/validation/canonical.ts';
import { assertRefused, sample } from './fixtures.ts';

type Doc = Record<string, unknown>;

describe('applicant identity: document type, number and applicant type agree', () => {
  const regions = RegionTable.default();

  function submissionWith(applicant: Doc): Doc {
    const submission = sample('sh-json', 'application.submit', 'request');
    Object.assign(submission['applicant'] as Doc, applicant);
    return submission;
  }

  const validate = (doc: Doc) => () => validateCanonical('application.submit', 'request', doc, regions);

  it('accepts an organisation identified by its credit code', () => {
    const submission = sample('js-xml', 'application.submit', 'request');
    assert.equal(validate(submission)(), submission);
  });

  it('refuses an ORG applicant identified by a personal document', () => {
    const detail = assertRefused(validate(submissionWith({ type: 'ORG' })), 'applicant.idType');
    assert.match(detail, /ORG applicant must be identified by idType 001/);
  });

  it('refuses a PERSON applicant identified by a credit code', () => {
    const submission = submissionWith({ type: 'PERSON', idType: '001', idNumber: '91310115591693856A' });
    assertRefused(validate(submission), 'applicant.idType');
  });

  it('checks a credit code with the GB 32100 rule when idType is 001', () => {
    const submission = sample('js-xml', 'application.submit', 'request');
    (submission['applicant'] as Doc)['idNumber'] = '91310115591693856B';
    const detail = assertRefused(validate(submission), 'applicant.idNumber');
    assert.equal(detail, 'applicant.idNumber: check character is B, expected A');
  });

  it('checks an identity card number with the GB 11643 rule when idType is 111', () => {
    assertRefused(validate(submissionWith({ idNumber: '91310115591693856A' })), 'applicant.idNumber');
  });

  it('accepts passports and travel permits of letters and digits for a PERSON', () => {
    for (const [idType, idNumber] of [['414', 'E12345678'], ['516', 'H12345678'], ['511', '12345678'], ['553', 'USA110080101001'], ['553', '933101200001010012']]) {
      const submission = submissionWith({ idType, idNumber });
      assert.equal(validate(submission)(), submission, `${idType} ${idNumber}`);
    }
  });

  it('refuses a travel document number with spaces, other characters or more than 32 characters', () => {
    for (const idNumber of ['E 12345678', 'E12345678。', '-12345678', 'E'.repeat(33)]) {
      assertRefused(validate(submissionWith({ idType: '414', idNumber })), 'applicant.idNumber');
    }
  });

  it('checks the holder of a licence against the same rules', () => {
    const request = {
      verifyNo: 'V1',
      licenceNo: 'JY23305020012345',
      holder: { idType: '111', idNumber: '330502199003070028', name: '王芳' },
      requestedAt: '2026-11-27T09:30:00+08:00',
    };
    const detail = assertRefused(() => validateCanonical('licence.verify', 'request', request, regions), 'holder.idNumber');
    assert.equal(detail, 'holder.idNumber: check character is 8, expected 9');
    request.holder.idNumber = '330502199003070029';
    assert.equal(validateCanonical('licence.verify', 'request', request, regions), request);
  });
});
