import { EntitleError } from '../errors/index.ts';

// Legal effective dates are given in UK time. The zone rules come from the platform (Intl, with
// its time-zone database); only the conversion of a wall-clock time to an instant is written here.
const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$/;
const london = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

function wallClockMillis(instant: number): number {
  const parts = Object.fromEntries(london.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  return Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
}

/**
 * `2026-04-06` (midnight) or `2026-04-06T09:00`, in Europe/London, as an ISO 8601 UTC instant.
 * An instant with an explicit offset or Z is taken as it is.
 */
export function londonToInstant(text: string, field = 'effective'): string {
  const match = LOCAL.exec(text.trim());
  if (!match) {
    const instant = Date.parse(text);
    if (/[zZ]|[+-]\d{2}:\d{2}$/.test(text) && !Number.isNaN(instant)) return new Date(instant).toISOString();
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${field} is not a date or time`, [
      { field, message: 'enter a UK date such as 2026-04-06, or a date and time such as 2026-04-06T09:00' },
    ]);
  }
  const [, y, mo, d, h = '00', mi = '00'] = match;
  const wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi));
  // The offset at the guess, then at the result: right on both sides of a clock change.
  let instant = wall - (wallClockMillis(wall) - wall);
  instant = wall - (wallClockMillis(instant) - instant);
  if (Number.isNaN(instant) || new Date(wall).getUTCDate() !== Number(d)) {
    throw new EntitleError('ENTITLE_INPUT_INVALID', `${field} is not a real date`, [
      { field, message: 'enter a real date such as 2026-04-06' },
    ]);
  }
  return new Date(instant).toISOString();
}

/** An instant in UK time for the record and the command line: "6 April 2026, 00:00 (UK time)". */
export function formatLondon(instant: string): string {
  return `${new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(instant))} (UK time)`;
}

/** The UK calendar date of an instant, as YYYY-MM-DD: the assessment date a preview uses. */
export function londonDate(instant: string): string {
  const parts = Object.fromEntries(london.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

const toTheSecond = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** An instant in UK time to the second, for timelines and reviews: "22 Nov 2026, 03:10:12". */
export function ukTimeText(instant: string): string {
  return toTheSecond.format(new Date(instant));
}

const govuk = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  hourCycle: 'h12',
});

/**
 * An instant in UK time as the GOV.UK style guide writes it, for web pages: "14 May 2026 at
 * 9:05am", with "midnight" and "midday" for 12am and 12pm.
 */
export function govukTime(instant: string | Date): string {
  const p = Object.fromEntries(govuk.formatToParts(new Date(instant)).map((part) => [part.type, part.value]));
  const hour = Number(p.hour);
  const period = (p.dayPeriod ?? '').toLowerCase().replace(/\W/g, '');
  let time = `${hour}:${p.minute}${period}`;
  if (hour === 12 && p.minute === '00') time = period === 'am' ? 'midnight' : 'midday';
  return `${p.day} ${p.month} ${p.year} at ${time}`;
}
