import assert from 'node:assert/strict';
import fc from 'fast-check';
import { creditCodeCheckCharacter, creditCodeProblem } from '../../../adapters/validation/credit-code.ts';

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

const validCreditCode = fc
  .string({ unit: fc.constantFrom(...ALPHABET), minLength: 17, maxLength: 17 })
  .map((first17) => first17 + creditCodeCheckCharacter(first17));

describe('统一社会信用代码 (GB 32100-2015)', () => {
  it('accepts the code of the sample organisation', () => {
    assert.equal(creditCodeProblem('91310115591693856A'), null);
  });

  it('names the check character found and the one expected', () => {
    assert.equal(creditCodeProblem('91310115591693856B'), 'check character is B, expected A');
  });

  it('writes a check value of 31 as 0', () => {
    const sum = (first17: string) => [...first17].reduce((total, char, i) => total + ALPHABET.indexOf(char) * WEIGHTS[i]!, 0);
    const first17 = ALPHABET.split('')
      .map((last) => `9131011559169385${last}`)
      .find((candidate) => sum(candidate) % 31 === 0);
    assert.ok(first17 !== undefined);
    assert.equal(creditCodeCheckCharacter(first17), '0');
    assert.equal(creditCodeProblem(`${first17}0`), null);
  });

  it('refuses the letters I, O, S, V and Z and lower-case letters, naming the position', () => {
    for (const letter of 'IOSVZa') {
      assert.equal(
        creditCodeProblem(`9131011559169385${letter}A`),
        'character 17 is not in the GB 32100 alphabet (digits and upper-case letters except I, O, S, V, Z)',
      );
    }
    assert.match(creditCodeProblem('91310115591693856a') ?? '', /^character 18 /);
  });

  it('refuses codes that are not 18 characters long', () => {
    assert.equal(creditCodeProblem('91310115591693856'), 'must be 18 characters, got 17');
    assert.equal(creditCodeProblem(''), 'must be 18 characters, got 0');
  });

  it('accepts every generated valid code', () => {
    fc.assert(fc.property(validCreditCode, (code) => creditCodeProblem(code) === null));
  });

  it('refuses every code with exactly one character changed', () => {
    const change = fc.tuple(validCreditCode, fc.integer({ min: 0, max: 17 }), fc.constantFrom(...ALPHABET, 'a', 'I', ' '));
    fc.assert(
      fc.property(change, ([code, position, replacement]) => {
        fc.pre(code[position] !== replacement);
        return creditCodeProblem(code.slice(0, position) + replacement + code.slice(position + 1)) !== null;
      }),
    );
  });
});
