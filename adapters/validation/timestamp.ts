/**
 * RFC 3339 §5.6 timestamps as the canonical form writes them: `2026-11-27T09:30:00+08:00`. The offset must be
 * explicit (`Z` or ±hh:mm, but not `-00:00`, which §4.3 reserves for "offset unknown"): partner formats carry
 * Beijing wall-clock time, so an instant without a known offset cannot be translated. Upper-case `T` and `Z`
 * only (the canonical spelling), and no leap second: neither the partner formats nor a JS Date can carry
 * second 60.
 */
import { isCalendarDate } from './calendar.ts';

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Why `value` is not an RFC 3339 date-time with an explicit offset, or null when it is. */
export function timestampProblem(value: string): string | null {
  const parts = DATE_TIME.exec(value);
  if (parts === null) return 'must be an RFC 3339 date-time with an offset, like 2026-11-27T09:30:00+08:00';
  if (!isCalendarDate(Number(parts[1]), Number(parts[2]), Number(parts[3]))) return 'is not a calendar date';
  if (Number(parts[4]) > 23 || Number(parts[5]) > 59 || Number(parts[6]) > 59) return 'is not a time of day';
  const sign = parts[7];
  if (sign === undefined) return null;
  const offsetHours = Number(parts[8]);
  const offsetMinutes = Number(parts[9]);
  if (offsetHours > 23 || offsetMinutes > 59) return 'has an impossible offset';
  if (sign === '-' && offsetHours === 0 && offsetMinutes === 0) return 'has offset -00:00 (unknown offset); state the real one';
  return null;
}

/** An RFC 3339 full-date (`2031-11-26`) that is a real calendar day: every partner format carries a day here. */
export function calendarDateProblem(value: string): string | null {
  const parts = FULL_DATE.exec(value);
  if (parts === null) return 'must be an RFC 3339 full-date (YYYY-MM-DD)';
  return isCalendarDate(Number(parts[1]), Number(parts[2]), Number(parts[3])) ? null : 'is not a calendar date';
}
