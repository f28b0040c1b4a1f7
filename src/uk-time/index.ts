/**
 * UK time, in one home: legal effective dates and freeze windows given as UK wall-clock times,
 * the three ways instants are shown to people, and England and Wales working days.
 */
export { formatLondon, govukTime, londonDate, londonToInstant, ukTimeText } from './london.ts';
export { bankHolidays, isWorkingDay, workingDaysAfter } from './working-days.ts';
