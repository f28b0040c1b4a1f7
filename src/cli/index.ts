export { buildProgram, run } from './main.ts';
export { EXIT } from './exit.ts';
