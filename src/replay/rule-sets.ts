import { storedBundle } from '../decisions/index.ts';
import { EntitleError } from '../errors/index.ts';
import { ruleSetFromBundle, type EngineOverrides, type RuleSet } from '../rules/index.ts';
import { fromStore, type Database } from '../store/index.ts';

/** Compiled rule sets by hash: the ones in service, then any rebuilt from storage for replay. */
export class ReplayRuleSets {
  private readonly rebuilt = new Map<string, RuleSet>();

  constructor(
    private readonly db: Database,
    private readonly inService: ReadonlyMap<string, RuleSet>,
    /** A different build of the engine (tests only): every version is then compiled with it. */
    private readonly engine?: EngineOverrides,
  ) {}

  async byHash(hash: string): Promise<RuleSet> {
    if (!this.engine) for (const ruleSet of this.inService.values()) if (ruleSet.hash === hash) return ruleSet;
    const cached = this.rebuilt.get(hash);
    if (cached) return cached;
    const bundle = await fromStore(() => storedBundle(this.db, hash));
    if (bundle === undefined)
      throw new EntitleError('ENTITLE_INTERNAL', `the rule-set version ${hash} of this decision is not stored`);
    const ruleSet = ruleSetFromBundle(bundle, hash, this.engine);
    if (ruleSet.hash !== hash) {
      // The stored rules no longer hash to the version the decision names: the store was altered.
      throw new EntitleError(
        'ENTITLE_INTERNAL',
        `the stored rule-set version ${hash} no longer matches its hash; run "entitle audit verify"`,
      );
    }
    if (this.rebuilt.size >= 32) this.rebuilt.delete(this.rebuilt.keys().next().value!);
    this.rebuilt.set(hash, ruleSet);
    return ruleSet;
  }
}
