/** The `entitle` command line (commander): the command tree, running it, and its generated reference. */
export { renderCliDocs } from './docs.ts';
export { EXIT } from './exit.ts';
export { COMMAND_MODULES, run } from './main.ts';
export { buildProgram } from './tree.ts';
