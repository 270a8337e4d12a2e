/**
 * 居民身份证号码 (citizen identity number), GB 11643-1999: a six-digit address code, an eight-digit birth date
 * (YYYYMMDD), a three-digit sequence number and one check character computed with ISO 7064 MOD 11-2.
 *
 * Reasons name positions and expected characters, never the number itself: it is personal data.
 */
import { isCalendarDate } from './calendar.ts';

const LENGTH = 18;
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Σ(digit × weight) mod 11 = 0…10 selects the check character at that index (ISO 7064 MOD 11-2 as GB 11643 writes it). */
const CHECK_CHARACTERS = '10X98765432';

/**
 * The province-level codes of GB/T 2260. The address code is where the holder was first registered and may
 * name a county that has since been abolished, so only its province prefix is checked. No province-level
 * code has been withdrawn since GB 2260 began (46 海南 and 50 重庆 were added later), so the set is stable.
 */
const PROVINCE_PREFIXES: ReadonlySet<string> = new Set([
  '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42',
  '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82',
]);

const EARLIEST_BIRTH_DATE = '19000101';
const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;

/** The check character for the first 17 characters of a citizen identity number, which must be ASCII digits. */
export function idCardCheckCharacter(first17Digits: string): string {
  let sum = 0;
  for (let i = 0; i < WEIGHTS.length; i++) sum += (first17Digits.charCodeAt(i) - 48) * WEIGHTS[i]!;
  return CHECK_CHARACTERS[sum % 11]!;
}

/**
 * Why `idNumber` is not a valid citizen identity number, or null when it is. `today` decides which birth
 * dates lie in the future; the date on the card is a Beijing calendar date.
 */
export function idCardProblem(idNumber: string, today: Date = new Date()): string | null {
  if (idNumber.length !== LENGTH) return `must be ${LENGTH} characters, got ${idNumber.length}`;
  for (let i = 0; i < LENGTH - 1; i++) {
    if (!isDigit(idNumber.charCodeAt(i))) return `character ${i + 1} must be a digit`;
  }
  const check = idNumber[LENGTH - 1]!;
  if (check !== 'X' && check !== 'x' && !isDigit(check.charCodeAt(0))) return `character ${LENGTH} must be a digit or X`;
  const expected = idCardCheckCharacter(idNumber);
  if (check === 'x' && expected === 'X') return 'check character must be an upper-case X';
  if (check !== expected) return `check character is ${check}, expected ${expected}`;

  if (!PROVINCE_PREFIXES.has(idNumber.slice(0, 2))) {
    return 'address code (characters 1–6) does not begin with a GB/T 2260 province code';
  }
  const birthDate = idNumber.slice(6, 14);
  const year = Number(birthDate.slice(0, 4));
  const month = Number(birthDate.slice(4, 6));
  const day = Number(birthDate.slice(6, 8));
  if (!isCalendarDate(year, month, day)) return 'birth date (characters 7–14) is not a calendar date';
  if (birthDate < EARLIEST_BIRTH_DATE) return 'birth date (characters 7–14) is before 1900';
  // Midnight (UTC) of the birth date lies after Beijing's wall clock read as UTC exactly when the birth date is
  // after today's date in Beijing.
  if (Date.UTC(year, month - 1, day) > today.getTime() + BEIJING_OFFSET_MS) return 'birth date (characters 7–14) is in the future';
  return null;
}

function isDigit(charCode: number): boolean {
  return charCode >= 48 && charCode <= 57;
}
