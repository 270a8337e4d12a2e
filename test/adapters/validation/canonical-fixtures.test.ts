import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegionTable } from '../../../adapters/regions/index.ts';
import { validateCanonical } from '../../../adapters/validation/canonical.ts';
import { canonicalFixtures, fixturesDir, ownSample, sample } from './fixtures.ts';

describe('validating the canonical samples of every partner family', () => {
  const regions = RegionTable.default();
  const fixtures = canonicalFixtures();

  it('finds a request and a response of both sampled message types in every family', () => {
    assert.equal(fixtures.length, 16);
  });

  for (const { family, file, messageType, direction, doc } of fixtures) {
    it(`accepts ${family}/${file} and returns the same document unchanged`, () => {
      const validated = validateCanonical(messageType, direction, doc, regions);
      assert.equal(validated, doc);
      assert.deepEqual(validated, JSON.parse(readFileSync(join(fixturesDir, family, file), 'utf8')));
    });
  }

  for (const messageType of ['licence.verify', 'evaluation.submit'] as const) {
    for (const direction of ['request', 'response'] as const) {
      it(`accepts a ${messageType} ${direction} in the project's own canonical form`, () => {
        const doc = ownSample(messageType, direction);
        assert.equal(validateCanonical(messageType, direction, doc, regions), doc);
      });
    }
  }

  it('accepts the optional fields of licence.verify and evaluation.submit left out', () => {
    const answer = { verifyNo: 'V1', licenceNo: 'L1', valid: false, message: '' };
    assert.equal(validateCanonical('licence.verify', 'response', answer, regions), answer);
    const evaluation = { applyNo: '3101172026112700001', score: 1, evaluatedAt: '2026-11-29T10:00:00+08:00' };
    assert.equal(validateCanonical('evaluation.submit', 'request', evaluation, regions), evaluation);
  });

  it('accepts a licence number on a status change and none at all', () => {
    const status = sample('sh-json', 'application.status', 'request');
    assert.equal(typeof status['licenceNo'], 'string');
    delete status['licenceNo'];
    assert.equal(validateCanonical('application.status', 'request', status, regions), status);
  });
});
