export { mulRate, parseRate, parseScaled, penceToPounds, poundsToPence, formatMoney, formatRate, PPM } from './money.ts';
export { ageOn, formatIsoDate, formatLongDate, parseIsoDate } from './dates.ts';
