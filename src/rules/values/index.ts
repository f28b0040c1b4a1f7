export {
  mulRate,
  parseRate,
  parseScaled,
  penceToPounds,
  poundsToPence,
  formatMoney,
  formatRate,
  poundsText,
  PPM,
} from './money.ts';
export { ageOn, dateOfDay, dayNumber, formatIsoDate, formatLongDate, parseIsoDate } from './dates.ts';
