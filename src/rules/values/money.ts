/**
 * Money is held as a whole number of pence, never as binary floating point. Rates are held as
 * whole parts per million, so 55% is 550000 and `pence * rate` stays an exact integer product.
 *
 * Written by hand: decimal libraries (decimal.js, big.js) are exact too, but allocate an object
 * per operation and are one to two orders of magnitude slower than integer arithmetic, and none
 * rounds a fraction of a penny the way the regulations say without the same amount of code.
 */

export const PPM = 1_000_000;

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * Parses a decimal written in text or as a JavaScript number (whose shortest form round-trips,
 * so 316.98 reads as "316.98") into an integer count of `10^-scale` units. Returns undefined when
 * the value has more decimal places than `scale` or is too large to be exact.
 */
export function parseScaled(value: number | string, scale: number): number | undefined {
  const text = typeof value === 'number' ? numberToPlainString(value) : value.trim();
  if (text === undefined) return undefined;
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const [, sign, whole = '0', fraction = ''] = match;
  const trimmed = fraction.replace(/0+$/, '');
  if (trimmed.length > scale) return undefined;
  const units = Number(whole + trimmed.padEnd(scale, '0'));
  if (!Number.isSafeInteger(units)) return undefined;
  return sign ? -units : units;
}

function numberToPlainString(value: number): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  const text = String(value);
  // Exponent forms (1e-7, 1e21) are never a valid amount or rate here.
  return text.includes('e') ? undefined : text;
}

/** Pounds written as a number with at most two decimals, to pence. */
export function poundsToPence(value: number | string): number | undefined {
  return parseScaled(value, 2);
}

/** A rate written as "55%" or as a fraction (0.55), to parts per million. */
export function parseRate(value: number | string): number | undefined {
  if (typeof value === 'string' && value.trim().endsWith('%')) {
    return parseScaled(value.trim().slice(0, -1), 4);
  }
  return parseScaled(value, 6);
}

/** Pence back to pounds for JSON output (a display form; all arithmetic stays in pence). */
export function penceToPounds(pence: number): number {
  return pence / 100;
}

/**
 * `pence * ratePpm / 10^6` rounded to the nearest penny, a half penny rounding away from zero:
 * "a fraction of a penny is disregarded if less than half a penny and otherwise treated as a
 * penny" (UC Regs 2013 reg. 6(1)). Exact for every input: falls back to BigInt when the product
 * leaves the safe-integer range.
 */
export function mulRate(pence: number, ratePpm: number): number {
  const product = pence * ratePpm;
  if (Number.isSafeInteger(product)) {
    const negative = product < 0;
    const magnitude = negative ? -product : product;
    const rounded = Math.floor((magnitude + PPM / 2) / PPM);
    return negative ? -rounded : rounded;
  }
  const big = BigInt(pence) * BigInt(ratePpm);
  const negative = big < 0n;
  const magnitude = negative ? -big : big;
  const rounded = Number((magnitude + BigInt(PPM / 2)) / BigInt(PPM));
  return negative ? -rounded : rounded;
}

/** Formats pence as pounds for people: 121372 -> "£1,213.72". */
export function formatMoney(pence: number): string {
  const magnitude = pence < 0 ? -pence : pence;
  const whole = Math.floor(magnitude / 100);
  const rest = magnitude - whole * 100;
  let pounds = String(whole);
  for (let at = pounds.length - 3; at > 0; at -= 3) pounds = `${pounds.slice(0, at)},${pounds.slice(at)}`;
  return `${pence < 0 ? '-£' : '£'}${pounds}${rest < 10 ? '.0' : '.'}${rest}`;
}

/** Pence as plain pounds, for spreadsheets and tables: 12345 is "123.45", -5 is "-0.05". */
export function poundsText(pence: number): string {
  const sign = pence < 0 ? '-' : '';
  const abs = Math.abs(pence);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Formats a rate for people: 550000 -> "55%". */
export function formatRate(ppm: number): string {
  const percent = ppm / 10_000;
  return `${Number.isInteger(percent) ? percent : (ppm / 10_000).toFixed(4).replace(/0+$/, '')}%`;
}
