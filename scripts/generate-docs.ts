// Regenerates the docs that are made from code: error codes and CLI help. Tests fail when the
// committed files differ from what this writes.
import { writeFile } from 'node:fs/promises';
import { renderCliDocs } from '../src/cli/index.ts';
import { renderErrorDocs } from '../src/errors/index.ts';
import { renderFunctionDocs } from '../src/rules/index.ts';

await writeFile(new URL('../docs/errors.md', import.meta.url), renderErrorDocs());
await writeFile(new URL('../docs/cli.md', import.meta.url), renderCliDocs());
await writeFile(new URL('../docs/rule-functions.md', import.meta.url), renderFunctionDocs());
console.log('wrote docs/errors.md, docs/cli.md and docs/rule-functions.md');
