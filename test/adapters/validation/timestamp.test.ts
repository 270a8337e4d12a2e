import assert from 'node:assert/strict';
import { calendarDateProblem, timestampProblem } from '../../../adapters/validation/timestamp.ts';

describe('RFC 3339 timestamps in canonical messages', () => {
  it('accepts Beijing time as the samples write it, UTC with Z, and fractions of a second', () => {
    for (const value of ['2026-11-27T09:30:00+08:00', '2026-11-27T01:30:00Z', '2026-11-27T09:30:00.123+08:00', '2024-02-29T23:59:59-05:30']) {
      assert.equal(timestampProblem(value), null, value);
    }
  });

  it('refuses a time without an offset, since its instant is unknown', () => {
    for (const value of ['2026-11-27T09:30:00', '2026-11-27 09:30:00', '20261127093000', '2026-11-27']) {
      assert.match(timestampProblem(value) ?? '', /^must be an RFC 3339 date-time with an offset/, value);
    }
  });

  it('refuses the offset -00:00, which RFC 3339 §4.3 reserves for an unknown offset', () => {
    assert.match(timestampProblem('2026-11-27T09:30:00-00:00') ?? '', /-00:00/);
    assert.equal(timestampProblem('2026-11-27T09:30:00+00:00'), null);
  });

  it('refuses days that are not on the calendar', () => {
    for (const value of ['2026-02-29T09:30:00+08:00', '2026-04-31T09:30:00+08:00', '2026-13-01T09:30:00+08:00', '2026-00-10T09:30:00+08:00']) {
      assert.equal(timestampProblem(value), 'is not a calendar date', value);
    }
  });

  it('refuses impossible times of day, including the leap second 60', () => {
    for (const value of ['2026-11-27T24:00:00+08:00', '2026-11-27T09:60:00+08:00', '2026-12-31T23:59:60Z']) {
      assert.equal(timestampProblem(value), 'is not a time of day', value);
    }
    assert.equal(timestampProblem('2026-11-27T09:30:00+24:00'), 'has an impossible offset');
  });

  it('refuses other spellings: lower-case t or z, short offsets, extra text', () => {
    for (const value of ['2026-11-27t09:30:00+08:00', '2026-11-27T01:30:00z', '2026-11-27T09:30:00+0800', '2026-11-27T09:30:00+08', ' 2026-11-27T09:30:00+08:00', '2026-11-27T09:30:00+08:00\n']) {
      assert.notEqual(timestampProblem(value), null, JSON.stringify(value));
    }
  });

  it('accepts a calendar date where a day is asked for, and nothing else', () => {
    assert.equal(calendarDateProblem('2031-11-26'), null);
    assert.equal(calendarDateProblem('2031-02-29'), 'is not a calendar date');
    assert.match(calendarDateProblem('2031-11-26T23:59:59+08:00') ?? '', /^must be an RFC 3339 full-date/);
    assert.match(calendarDateProblem('26/11/2031') ?? '', /^must be an RFC 3339 full-date/);
  });
});
