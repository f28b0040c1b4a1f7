export { readGoldenCases, runGoldenCase, type GoldenCase, type GoldenResult } from './golden.ts';
