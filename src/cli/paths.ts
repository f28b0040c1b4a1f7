import { fileURLToPath } from 'node:url';

/** The rule sets shipped with Entitle, wherever the command is run from. */
export const BUNDLED_RULESETS = fileURLToPath(new URL('../../rulesets', import.meta.url));
