/** The median of repeated runs (the upper middle of an even count), as every benchmark here reports. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
