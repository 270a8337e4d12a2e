/**
 * 统一社会信用代码 (unified social credit code), GB 32100-2015: 17 characters and one check character, all
 * from a 31-character alphabet (the digits and the upper-case letters without I, O, S, V and Z).
 */

const LENGTH = 18;
/** Character values 0…30 are the positions in this alphabet. */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

/** The check character for the first 17 characters (already in the alphabet) of a credit code. */
export function creditCodeCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < WEIGHTS.length; i++) sum += ALPHABET.indexOf(first17[i]!) * WEIGHTS[i]!;
  // check = 31 − (Σ mod 31), and a result of 31 is written as 0.
  return ALPHABET[(31 - (sum % 31)) % 31]!;
}

/** Why `code` is not a valid unified social credit code, or null when it is. */
export function creditCodeProblem(code: string): string | null {
  if (code.length !== LENGTH) return `must be ${LENGTH} characters, got ${code.length}`;
  for (let i = 0; i < LENGTH; i++) {
    if (!ALPHABET.includes(code[i]!)) {
      return `character ${i + 1} is not in the GB 32100 alphabet (digits and upper-case letters except I, O, S, V, Z)`;
    }
  }
  const check = code[LENGTH - 1]!;
  const expected = creditCodeCheckCharacter(code);
  return check === expected ? null : `check character is ${check}, expected ${expected}`;
}
