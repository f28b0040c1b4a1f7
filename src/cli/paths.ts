import { fileURLToPath } from 'node:url';

/** The rule sets shipped with Entitle, wherever the command is run from. */
export const BUNDLED_RULESETS = fileURLToPath(new URL('../../rulesets', import.meta.url));

/** How help shows that default: never as this machine's path. */
export const BUNDLED_RULESETS_HELP = 'the rule sets bundled with Entitle (its rulesets/ folder)';

/** The project's own folder: where `entitle ops generate` writes deploy/. */
export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));
