/**
 * Calendar dates are held as the whole number yyyymmdd (2017-04-06 is 20170406). Such numbers
 * order exactly as the dates do, a whole age is one subtraction, and nothing depends on a time
 * zone or the clock.
 */

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeap(year) ? 29 : 28) : DAYS_IN_MONTH[month - 1]!;
}

function digit(text: string, at: number): number {
  const code = text.charCodeAt(at) - 48;
  return code >= 0 && code <= 9 ? code : -100_000;
}

/**
 * Parses a strict ISO calendar date `YYYY-MM-DD`; undefined when the text is not one or names a
 * day that does not exist (2025-02-29). Hand-written because it runs for every date of every
 * assessment, and `Date.parse` accepts far more than a calendar date.
 */
export function parseIsoDate(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45)
    return undefined;
  const year = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3);
  const month = digit(text, 5) * 10 + digit(text, 6);
  const day = digit(text, 8) * 10 + digit(text, 9);
  if (year < 1800 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return year * 10000 + month * 100 + day;
}

function parts(date: number): { year: number; month: number; day: number } {
  return { year: Math.floor(date / 10000), month: Math.floor(date / 100) % 100, day: date % 100 };
}

const DAY_MS = 86_400_000;

/** Whole days from 1970-01-01 to a date, for arithmetic on dates: the next day is one more. */
export function dayNumber(date: number): number {
  const { year, month, day } = parts(date);
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

/** The date a whole number of days after 1970-01-01: the inverse of `dayNumber`. */
export function dateOfDay(days: number): number {
  const at = new Date(days * DAY_MS);
  return at.getUTCFullYear() * 10000 + (at.getUTCMonth() + 1) * 100 + at.getUTCDate();
}

/** Formats a date as `YYYY-MM-DD`. */
export function formatIsoDate(date: number): string {
  const { year, month, day } = parts(date);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Formats a date for people: "6 April 2017". */
export function formatLongDate(date: number): string {
  const { year, month, day } = parts(date);
  return `${day} ${MONTH_NAMES[month - 1]} ${year}`;
}

/**
 * Age in whole years on `on` of someone born on `birth`: the years between, less one if the
 * birthday has not yet come that year. Someone born on 29 February reaches a new age on
 * 1 March in common years (Family Law Reform Act 1969 s. 9).
 */
export function ageOn(birth: number, on: number): number {
  return Math.floor((on - birth) / 10000);
}
