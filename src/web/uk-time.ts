const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'long', year: 'numeric', hour: 'numeric', minute: '2-digit', hourCycle: 'h12' });

/**
 * An instant in UK time as the GOV.UK style guide writes it: "14 May 2026 at 9:05am", with
 * "midnight" and "midday" for 12am and 12pm.
 */
export function ukTime(instant: string | Date): string {
  const p = Object.fromEntries(parts.formatToParts(new Date(instant)).map((part) => [part.type, part.value]));
  const hour = Number(p.hour);
  const period = (p.dayPeriod ?? '').toLowerCase().replace(/\W/g, '');
  let time = `${hour}:${p.minute}${period}`;
  if (hour === 12 && p.minute === '00') time = period === 'am' ? 'midnight' : 'midday';
  return `${p.day} ${p.month} ${p.year} at ${time}`;
}
