#!/usr/bin/env node
// The `entitle` command. It runs the TypeScript sources through tsx's loader, so there is no
// build step to remember after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/cli/index.ts');
process.exitCode = await run(process.argv.slice(2));
