/**
 * ServiceTitan timestamps are ISO 8601 in UTC ("2024-01-15T10:00:00Z", "…10:00:00.1234567Z").
 * They are parsed here rather than with Date.parse, whose reading of a string without an offset
 * ("2024-01-15T10:00:00") is the host's local time: the API means UTC, and the result must not
 * depend on the TZ of the worker.
 */

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;
const HAS_LETTERS = /[a-z]/i;

/**
 * Before this year a timestamp is a placeholder, not a date: legacy rows carry .NET's
 * DateTime.MinValue "0001-01-01T00:00:00Z", sometimes shifted a few hours by an offset. No
 * ServiceTitan record was created before 1900, so nothing real is lost.
 */
export const PLACEHOLDER_BEFORE_YEAR = 1900;

/**
 * A Date for an ISO timestamp, or null when it is missing, unparseable, or the legacy placeholder.
 * Strings without an offset are UTC. Fractional seconds beyond milliseconds are truncated.
 * Non-ISO strings that JavaScript still understands ("Mon, 15 Jan 2024 10:00:00 GMT") are read
 * with Date.parse, but only when they name a zone, for the same TZ reason.
 */
export function parseTimestamp(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const match = ISO.exec(text);
  if (match === null) return parseOther(text);

  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = match[4] === undefined ? 0 : Number(match[4]);
  const minute = match[5] === undefined ? 0 : Number(match[5]);
  const second = match[6] === undefined ? 0 : Number(match[6]);
  const millis = match[7] === undefined ? 0 : Number(match[7].slice(0, 3).padEnd(3, '0'));
  if (hour > 23 || minute > 59 || second > 59) return null;
  if (!isCalendarDate(year, month, day)) return null;

  let offsetMinutes = 0;
  const zone = match[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone.charCodeAt(0) === 45 /* '-' */ ? -1 : 1;
    const hours = Number(zone.slice(1, 3));
    const minutes = zone.length > 3 ? Number(zone.slice(-2)) : 0;
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = sign * (hours * 60 + minutes);
  }

  // Date.UTC maps years 0–99 to 1900–1999; setUTCFullYear does not.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute - offsetMinutes, second, millis);
  return usable(date);
}

function parseOther(text: string): Date | null {
  if (text === '' || !HAS_LETTERS.test(text)) return null;
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || !(text.includes('GMT') || text.includes('UTC') || text.endsWith('Z'))) return null;
  return usable(new Date(ms));
}

function usable(date: Date): Date | null {
  const time = date.getTime();
  if (Number.isNaN(time) || date.getUTCFullYear() < PLACEHOLDER_BEFORE_YEAR) return null;
  return date;
}

/**
 * The calendar date 'YYYY-MM-DD' a timestamp names, read from its text and never moved through a
 * time zone: invoiceDate "2024-03-01T00:00:00Z" is 1 March wherever the worker runs. For the
 * "Z" strings ServiceTitan sends this is the UTC date; with an explicit offset it is the date as
 * written, which is the date the writer meant. Null when missing, not a date, or the placeholder.
 */
export function calendarDate(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const match = ISO.exec(text);
  if (match === null) {
    const parsed = parseOther(text);
    return parsed === null ? null : parsed.toISOString().slice(0, 10);
  }
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (year < PLACEHOLDER_BEFORE_YEAR || !isCalendarDate(year, month, day)) return null;
  return `${match[1]}-${match[2]}-${match[3]}`;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
