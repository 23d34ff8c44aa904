import { afterEach, describe, expect, it } from 'vitest';
import { calendarDate, parseTimestamp } from '../../../../src/ingest/normalise/dates.js';

const iso = (value: unknown) => parseTimestamp(value)?.toISOString() ?? null;

describe('parseTimestamp', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = originalTz;
  });

  it.each([
    ['2024-01-15T10:00:00Z', '2024-01-15T10:00:00.000Z'],
    ['2024-01-15T10:00:00.000Z', '2024-01-15T10:00:00.000Z'],
    ['2021-03-04T17:22:10.123Z', '2021-03-04T17:22:10.123Z'],
    ['2024-01-15T10:00:00.1234567Z', '2024-01-15T10:00:00.123Z'],
    ['2024-01-15T10:00:00-05:00', '2024-01-15T15:00:00.000Z'],
    ['2024-01-15T10:00:00+0530', '2024-01-15T04:30:00.000Z'],
    ['2024-01-15', '2024-01-15T00:00:00.000Z'],
    ['2024-02-29T23:59:59Z', '2024-02-29T23:59:59.000Z'],
    ['Mon, 15 Jan 2024 10:00:00 GMT', '2024-01-15T10:00:00.000Z'],
  ])('when given %j, then it is %s', (input, expected) => {
    expect(iso(input)).toBe(expected);
  });

  it.each([
    ['0001-01-01T00:00:00Z'],
    ['0001-01-01T00:00:00'],
    ['0001-01-01T00:00:00+05:00'],
    ['garbage'],
    ['not a date'],
    [''],
    ['2023-02-29T00:00:00Z'],
    ['2024-13-01T00:00:00Z'],
    ['2024-01-15T25:00:00Z'],
    [null],
    [undefined],
    [1705312800000],
  ])('when given %j, then it is null', (input) => {
    expect(parseTimestamp(input)).toBeNull();
  });

  it('when a timestamp has no offset, then it is UTC whatever the TZ of the process', () => {
    process.env.TZ = 'America/Los_Angeles';
    expect(iso('2024-01-15T10:00:00')).toBe('2024-01-15T10:00:00.000Z');
    process.env.TZ = 'Pacific/Kiritimati';
    expect(iso('2024-01-15T10:00:00')).toBe('2024-01-15T10:00:00.000Z');
  });
});

describe('calendarDate', () => {
  const originalTz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = originalTz;
  });

  it('when invoiceDate is midnight Z, then it is that calendar date', () => {
    expect(calendarDate('2024-03-01T00:00:00Z')).toBe('2024-03-01');
    expect(calendarDate('2024-01-31T00:00:00.0000000Z')).toBe('2024-01-31');
  });

  it('when the process runs west of UTC, then the date is not shifted to the day before', () => {
    process.env.TZ = 'America/New_York';
    expect(calendarDate('2024-03-01T00:00:00Z')).toBe('2024-03-01');
    process.env.TZ = 'Asia/Tokyo';
    expect(calendarDate('2024-03-31T23:00:00Z')).toBe('2024-03-31');
  });

  it('when the timestamp carries an offset, then the date is the one written', () => {
    expect(calendarDate('2024-03-01T00:00:00+02:00')).toBe('2024-03-01');
  });

  it.each([['0001-01-01T00:00:00Z'], ['garbage'], [''], [null], [undefined], ['2024-02-30T00:00:00Z']])(
    'when given %j, then it is null',
    (input) => {
      expect(calendarDate(input)).toBeNull();
    },
  );
});
