import { londonDate, londonToInstant } from './london.ts';

/**
 * Working days in England and Wales, for review deadlines ("within 5 working days"). Written by
 * hand: no well-kept package knows UK bank holidays offline. The regular holidays follow their
 * rules (Banking and Financial Dealings Act 1971 and the annual proclamations), with weekend
 * substitutes; one-off holidays are listed as they are proclaimed.
 */
const ONE_OFF_HOLIDAYS = new Set(['2022-06-03', '2022-09-19', '2023-05-08']);

function iso(year: number, month: number, day: number): string {
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function weekday(date: string): number {
  return new Date(`${date}T12:00:00Z`).getUTCDay();
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Easter Sunday (the anonymous Gregorian algorithm). */
function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return iso(year, month, day);
}

function firstMonday(year: number, month: number): string {
  let date = iso(year, month, 1);
  while (weekday(date) !== 1) date = addDays(date, 1);
  return date;
}

function lastMonday(year: number, month: number): string {
  let date = addDays(iso(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1), -1);
  while (weekday(date) !== 1) date = addDays(date, -1);
  return date;
}

const cache = new Map<number, ReadonlySet<string>>();

/** The bank holidays of England and Wales in a year. */
export function bankHolidays(year: number): ReadonlySet<string> {
  const known = cache.get(year);
  if (known) return known;
  const easter = easterSunday(year);
  const days = new Set<string>([
    addDays(easter, -2),
    addDays(easter, 1),
    firstMonday(year, 5),
    lastMonday(year, 5),
    lastMonday(year, 8),
  ]);
  // New Year's Day: the next Monday when it falls at a weekend.
  const newYear = iso(year, 1, 1);
  days.add(weekday(newYear) === 6 ? addDays(newYear, 2) : weekday(newYear) === 0 ? addDays(newYear, 1) : newYear);
  // Christmas and Boxing Day: each moves to the next weekday not already a holiday.
  for (const date of [iso(year, 12, 25), iso(year, 12, 26)]) {
    let day = date;
    while (weekday(day) === 0 || weekday(day) === 6 || days.has(day)) day = addDays(day, 1);
    days.add(day);
  }
  for (const date of ONE_OFF_HOLIDAYS) if (date.startsWith(`${year}-`)) days.add(date);
  cache.set(year, days);
  return days;
}

export function isWorkingDay(date: string): boolean {
  const day = weekday(date);
  return day !== 0 && day !== 6 && !bankHolidays(Number(date.slice(0, 4))).has(date);
}

/** The end (23:59 UK time) of the `count`th working day after the UK date of `instant`. */
export function workingDaysAfter(instant: string, count: number): string {
  let date = londonDate(instant);
  for (let left = count; left > 0;) {
    date = addDays(date, 1);
    if (isWorkingDay(date)) left -= 1;
  }
  return londonToInstant(`${date}T23:59`);
}
