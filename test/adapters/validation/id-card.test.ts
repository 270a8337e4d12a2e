import assert from 'node:assert/strict';
import fc from 'fast-check';
import { idCardCheckCharacter, idCardProblem } from '../../../adapters/validation/id-card.ts';

const TODAY = new Date('2026-11-27T12:00:00+08:00');

/** Valid numbers built from parts: province prefix, county, birth date since 1900, sequence, check. */
const validIdNumber = fc
  .tuple(
    fc.constantFrom('11', '31', '32', '33', '34', '44', '46', '50', '65', '71', '81', '82'),
    fc.integer({ min: 0, max: 9999 }),
    fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2026-11-26T00:00:00Z'), noInvalidDate: true }),
    fc.integer({ min: 0, max: 999 }),
  )
  .map(([province, county, birth, sequence]) => {
    const first17 = `${province}${String(county).padStart(4, '0')}${birth.toISOString().slice(0, 10).replaceAll('-', '')}${String(sequence).padStart(3, '0')}`;
    return first17 + idCardCheckCharacter(first17);
  });

describe('居民身份证 numbers (GB 11643-1999)', () => {
  it('accepts the numbers of the sample applicants', () => {
    for (const idNumber of ['310117198506150033', '330502199003070029', '341802199201010042']) {
      assert.equal(idCardProblem(idNumber, TODAY), null, idNumber);
    }
  });

  it('accepts X as the check character when Σ mod 11 is 2', () => {
    assert.equal(idCardProblem('11010519491231002X', TODAY), null);
  });

  it('names the check character found and the one expected, without repeating the number', () => {
    const problem = idCardProblem('11010519491231002' + '4', TODAY);
    assert.equal(problem, 'check character is 4, expected X');
    assert.equal(idCardProblem('310117198506150034', TODAY), 'check character is 4, expected 3');
  });

  it('refuses a lower-case x check character', () => {
    assert.equal(idCardProblem('11010519491231002x', TODAY), 'check character must be an upper-case X');
  });

  it('refuses numbers that are not 18 characters long, such as the old 15-digit form', () => {
    assert.equal(idCardProblem('110105491231002', TODAY), 'must be 18 characters, got 15');
    assert.equal(idCardProblem('3101171985061500331', TODAY), 'must be 18 characters, got 19');
    assert.equal(idCardProblem('', TODAY), 'must be 18 characters, got 0');
  });

  it('refuses a letter among the first 17 characters and names its position', () => {
    assert.equal(idCardProblem('3101171985061500X3', TODAY), 'character 17 must be a digit');
    assert.equal(idCardProblem('31011719850615003Y', TODAY), 'character 18 must be a digit or X');
  });

  it('refuses a birth date that is not on the calendar', () => {
    for (const date of ['19900230', '19000229', '19901301', '19900001', '19900100']) {
      const first17 = `330502${date}002`;
      assert.equal(idCardProblem(first17 + idCardCheckCharacter(first17), TODAY), 'birth date (characters 7–14) is not a calendar date', date);
    }
  });

  it('accepts 29 February in a leap year', () => {
    const first17 = '33050220000229002';
    assert.equal(idCardProblem(first17 + idCardCheckCharacter(first17), TODAY), null);
  });

  it('refuses a birth date before 1900', () => {
    const first17 = '33050218991231002';
    assert.equal(idCardProblem(first17 + idCardCheckCharacter(first17), TODAY), 'birth date (characters 7–14) is before 1900');
  });

  it('refuses a birth date after today in Beijing, and accepts one born today', () => {
    const tomorrow = '33050220261128002';
    assert.equal(idCardProblem(tomorrow + idCardCheckCharacter(tomorrow), TODAY), 'birth date (characters 7–14) is in the future');
    const today = '33050220261127002';
    assert.equal(idCardProblem(today + idCardCheckCharacter(today), TODAY), null);
    // 2026-11-27T16:30Z is already 28 November in Beijing.
    assert.equal(idCardProblem(tomorrow + idCardCheckCharacter(tomorrow), new Date('2026-11-27T16:30:00Z')), null);
  });

  it('refuses an address code whose first two digits are not a province', () => {
    const first17 = '99050219900307002';
    assert.match(idCardProblem(first17 + idCardCheckCharacter(first17), TODAY) ?? '', /province code/);
  });

  it('accepts a holder registered in a county that no longer exists (绍兴县 330621, abolished 2013)', () => {
    const first17 = '33062119800101001';
    assert.equal(idCardProblem(first17 + idCardCheckCharacter(first17), TODAY), null);
  });

  it('accepts every generated valid number', () => {
    fc.assert(fc.property(validIdNumber, (idNumber) => idCardProblem(idNumber, TODAY) === null));
  });

  it('refuses every number with exactly one character changed', () => {
    const change = fc.tuple(validIdNumber, fc.integer({ min: 0, max: 17 }), fc.constantFrom(...'0123456789Xx A'));
    fc.assert(
      fc.property(change, ([idNumber, position, replacement]) => {
        fc.pre(idNumber[position] !== replacement);
        const changed = idNumber.slice(0, position) + replacement + idNumber.slice(position + 1);
        return idCardProblem(changed, TODAY) !== null;
      }),
    );
  });

  it('never repeats five or more consecutive characters of the number in its reasons', () => {
    const candidate = fc.string({ unit: fc.constantFrom(...'0123456789X'), minLength: 5, maxLength: 20 });
    fc.assert(
      fc.property(candidate, (idNumber) => {
        const problem = idCardProblem(idNumber, TODAY) ?? '';
        for (let i = 0; i + 5 <= idNumber.length; i++) if (problem.includes(idNumber.slice(i, i + 5))) return false;
        return true;
      }),
    );
  });
});
