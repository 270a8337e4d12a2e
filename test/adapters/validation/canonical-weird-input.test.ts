import assert from 'node:assert/strict';
import fc from 'fast-check';
import { XrError } from '../../../gateway/protocol/errors.ts';
import { MESSAGE_TYPES, type Direction } from '../../../gateway/protocol/messages.ts';
import { RegionTable } from '../../../adapters/regions/index.ts';
import { validateCanonical } from '../../../adapters/validation/canonical.ts';
import { assertRefused, canonicalFixtures, sample } from './fixtures.ts';

const DIRECTIONS: Direction[] = ['request', 'response'];

/** True when validation either accepted `doc` or refused it with XR_VALIDATION; false for any other error. */
function acceptsOrRefusesCleanly(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (error) {
    return error instanceof XrError && error.code === 'XR_VALIDATION';
  }
}

describe('validating input of the wrong shape never crashes', () => {
  const regions = RegionTable.default();

  for (const messageType of MESSAGE_TYPES) {
    for (const direction of DIRECTIONS) {
      it(`refuses null, arrays, numbers, strings and booleans as a ${messageType} ${direction}`, () => {
        for (const doc of [null, undefined, [], [{}], 42, 'application', '', true]) {
          const detail = assertRefused(() => validateCanonical(messageType, direction, doc, regions), 'message');
          assert.match(detail, /must be an object/);
        }
      });

      it(`refuses an empty object as a ${messageType} ${direction}, naming the first required field`, () => {
        assertRefused(() => validateCanonical(messageType, direction, {}, regions), messageType === 'licence.verify' ? 'verifyNo' : 'applyNo');
      });
    }
  }

  it('refuses objects that are not plain JSON objects', () => {
    for (const doc of [new Date(), new Map([['applyNo', 'x']]), Object.assign(Object.create({ applyNo: '1' }), {})]) {
      assertRefused(() => validateCanonical('application.status', 'response', doc, regions), 'message');
    }
  });

  it('refuses nested values of the wrong kind at their own path', () => {
    for (const applicant of [null, [], 42, 'x', true]) {
      const submission = sample('sh-json', 'application.submit', 'request');
      submission['applicant'] = applicant;
      assertRefused(() => validateCanonical('application.submit', 'request', submission, regions), 'applicant');
    }
    for (const form of [null, 'a=b', 42]) {
      const submission = sample('sh-json', 'application.submit', 'request');
      submission['form'] = form;
      assertRefused(() => validateCanonical('application.submit', 'request', submission, regions), 'form');
    }
  });

  it('refuses a __proto__ key in a request as an unknown field instead of following it', () => {
    const submission = JSON.parse(
      JSON.stringify(sample('sh-json', 'application.submit', 'request')).replace('{', '{"__proto__": {"polluted": true},'),
    ) as unknown;
    assertRefused(() => validateCanonical('application.submit', 'request', submission, regions), '__proto__');
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  it('refuses huge strings quickly', () => {
    const huge = '9'.repeat(8 * 1024 * 1024);
    const submission = sample('sh-json', 'application.submit', 'request');
    submission['applyNo'] = huge;
    const started = performance.now();
    assertRefused(() => validateCanonical('application.submit', 'request', submission, regions), 'applyNo');
    const materials = sample('sh-json', 'application.submit', 'request');
    (materials['materials'] as Record<string, unknown>[])[0]!['content'] = `${'A'.repeat(8 * 1024 * 1024)}!`;
    assertRefused(() => validateCanonical('application.submit', 'request', materials, regions), 'materials[0].content');
    assert.ok(performance.now() - started < 2000);
  });

  it('accepts or refuses with XR_VALIDATION any value at all as any message type', () => {
    const anyValue = fc.anything({
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withSet: true,
      withSparseArray: true,
      withTypedArray: true,
    });
    const shapes = fc.tuple(fc.constantFrom(...MESSAGE_TYPES), fc.constantFrom(...DIRECTIONS), anyValue);
    fc.assert(
      fc.property(shapes, ([messageType, direction, doc]) =>
        acceptsOrRefusesCleanly(() => validateCanonical(messageType, direction, doc, regions)),
      ),
    );
  });

  it('accepts or refuses with XR_VALIDATION a sample with one field replaced by any JSON value', () => {
    const fixtures = canonicalFixtures();
    const replacement = fc.tuple(fc.nat({ max: fixtures.length - 1 }), fc.nat(), fc.jsonValue());
    fc.assert(
      fc.property(replacement, ([fixtureIndex, fieldIndex, value]) => {
        const { messageType, direction, doc } = fixtures[fixtureIndex]!;
        const changed = structuredClone(doc);
        const keys = Object.keys(changed);
        changed[keys[fieldIndex % keys.length]!] = value;
        return acceptsOrRefusesCleanly(() => validateCanonical(messageType, direction, changed, regions));
      }),
    );
  });
});
