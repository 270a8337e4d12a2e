/**
 * Partner date/time patterns ⇄ canonical RFC 3339. A pattern is made of the fields yyyy MM dd HH mm ss
 * (each once) and literal text: any character that is not an ASCII letter, or letters in single quotes
 * ('T'; '' is a quote). `time` patterns carry all six fields and map to `2026-11-27T09:30:00+08:00`;
 * `date` patterns carry yyyy MM dd and map to `2026-11-27`. Partner times are Beijing time (UTC+8, no
 * daylight saving); a canonical time in another offset is converted.
 */
import { isCalendarDate } from '../validation/calendar.ts';

export type TimeKind = 'time' | 'date';

const FIELD_WIDTH = { yyyy: 4, MM: 2, dd: 2, HH: 2, mm: 2, ss: 2 } as const;
type Field = keyof typeof FIELD_WIDTH;
type Token = { field: Field } | { literal: string };
type Fields = Record<Field, number>;

const REQUIRED: Record<TimeKind, readonly Field[]> = {
  time: ['yyyy', 'MM', 'dd', 'HH', 'mm', 'ss'],
  date: ['yyyy', 'MM', 'dd'],
};
const BEIJING_OFFSET_MINUTES = 8 * 60;

export interface TimePattern {
  readonly kind: TimeKind;
  /** Partner text → canonical text, or undefined when the text does not fit the pattern or is no real date. */
  toCanonical(partner: string): string | undefined;
  /** Canonical text → partner text, or undefined when it is not a canonical time/date or loses precision. */
  toPartner(canonical: string): string | undefined;
}

function tokenize(pattern: string): Token[] | string {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length;) {
    const character = pattern[i]!;
    if (character === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end < 0) return 'a quote is not closed';
      tokens.push({ literal: end === i + 1 ? "'" : pattern.slice(i + 1, end) });
      i = end + 1;
    } else if (/[A-Za-z]/.test(character)) {
      const run = /^([A-Za-z])\1*/.exec(pattern.slice(i))![0];
      if (!(run in FIELD_WIDTH)) return `"${run}" is not a field (use yyyy MM dd HH mm ss; quote literal letters: 'T')`;
      tokens.push({ field: run as Field });
      i += run.length;
    } else {
      tokens.push({ literal: character });
      i += 1;
    }
  }
  return tokens;
}

/** The calendar canonical validation uses too, so that what it accepts translates. */
function isRealDate(fields: Fields, kind: TimeKind): boolean {
  const { yyyy, MM, dd, HH, mm, ss } = fields;
  if (!isCalendarDate(yyyy, MM, dd)) return false;
  return kind === 'date' || (HH <= 23 && mm <= 59 && ss <= 59);
}

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

function formatCanonical(fields: Fields, kind: TimeKind): string {
  const date = `${pad(fields.yyyy, 4)}-${pad(fields.MM, 2)}-${pad(fields.dd, 2)}`;
  return kind === 'date' ? date : `${date}T${pad(fields.HH, 2)}:${pad(fields.mm, 2)}:${pad(fields.ss, 2)}+08:00`;
}

const RFC3339_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Minutes east of UTC; `-00:00` means "offset unknown" (RFC 3339 §4.3) and cannot become Beijing time. */
function offsetOf(offset: string): number | undefined {
  if (offset === 'Z') return 0;
  const hours = Number(offset.slice(1, 3));
  const minutes = Number(offset.slice(4));
  if (hours > 23 || minutes > 59 || offset === '-00:00') return undefined;
  return (offset.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

/** A canonical time or date as Beijing wall-clock fields. */
function parseCanonical(text: string, kind: TimeKind): Fields | undefined {
  if (kind === 'date') {
    const match = ISO_DATE.exec(text);
    if (match === null) return undefined;
    const fields = { yyyy: Number(match[1]), MM: Number(match[2]), dd: Number(match[3]), HH: 0, mm: 0, ss: 0 };
    return isRealDate(fields, kind) ? fields : undefined;
  }
  const match = RFC3339_TIME.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, fraction, offset] = match;
  const fields = { yyyy: Number(year), MM: Number(month), dd: Number(day), HH: Number(hour), mm: Number(minute), ss: Number(second) };
  // Partner patterns carry whole seconds: a non-zero fraction would be lost.
  if (!isRealDate(fields, kind) || (fraction !== undefined && /[1-9]/.test(fraction))) return undefined;
  const offsetMinutes = offsetOf(offset!);
  if (offsetMinutes === undefined) return undefined;
  if (offsetMinutes === BEIJING_OFFSET_MINUTES) return fields;
  const converted = minutesLater(fields, BEIJING_OFFSET_MINUTES - offsetMinutes);
  // A four-digit year cannot say 0000-01-01T00:00:00+09:00 (year -1 in Beijing) or 9999-12-31T20:00:00Z.
  return converted.yyyy >= 0 && converted.yyyy <= 9999 ? converted : undefined;
}

/**
 * The wall-clock fields `minutes` later, through a Date used as a proleptic Gregorian calendar. Set with
 * setUTCFullYear, not Date.UTC: Date.UTC reads the years 0–99 as 1900–1999 (ECMA-262 MakeFullYear).
 */
function minutesLater(fields: Fields, minutes: number): Fields {
  const date = new Date(0);
  date.setUTCFullYear(fields.yyyy, fields.MM - 1, fields.dd);
  date.setUTCHours(fields.HH, fields.mm + minutes, fields.ss);
  return {
    yyyy: date.getUTCFullYear(), MM: date.getUTCMonth() + 1, dd: date.getUTCDate(),
    HH: date.getUTCHours(), mm: date.getUTCMinutes(), ss: date.getUTCSeconds(),
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compiles a pattern, or returns what is wrong with it. */
export function compileTimePattern(pattern: unknown, kind: TimeKind): TimePattern | string {
  if (typeof pattern !== 'string' || pattern === '') return 'a pattern must be a non-empty string';
  const tokens = tokenize(pattern);
  if (typeof tokens === 'string') return tokens;
  const fields = tokens.flatMap((token) => ('field' in token ? [token.field] : []));
  for (const field of REQUIRED[kind]) {
    if (!fields.includes(field)) return `a ${kind} pattern needs ${REQUIRED[kind].join(' ')}; ${field} is missing`;
  }
  if (new Set(fields).size !== fields.length) return 'a field appears twice';
  if (fields.length !== REQUIRED[kind].length) return `a date pattern has only yyyy MM dd`;

  const matcher = new RegExp(`^${tokens.map((token) => ('field' in token ? `(\\d{${FIELD_WIDTH[token.field]}})` : escapeRegExp(token.literal))).join('')}$`);
  return {
    kind,
    toCanonical(partner) {
      const match = matcher.exec(partner);
      if (match === null) return undefined;
      const parsed: Fields = { yyyy: 0, MM: 1, dd: 1, HH: 0, mm: 0, ss: 0 };
      for (let index = 0; index < fields.length; index += 1) parsed[fields[index]!] = Number(match[index + 1]);
      return isRealDate(parsed, kind) ? formatCanonical(parsed, kind) : undefined;
    },
    toPartner(canonical) {
      const parsed = parseCanonical(canonical, kind);
      if (parsed === undefined) return undefined;
      return tokens.map((token) => ('field' in token ? pad(parsed[token.field], FIELD_WIDTH[token.field]) : token.literal)).join('');
    },
  };
}
