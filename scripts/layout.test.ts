import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { FOLDER_LINE_LIMIT, moduleCycles, readLayout, ROOT } from './layout.ts';

/** The layout rule's messages for `code` as if it were the file at `path` (type-aware rules off: the file is not on disk). */
async function layoutProblems(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT, overrideConfig: [tseslint.configs.disableTypeChecked] });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layout', () => {
  it('has no cycle among the folders of src', () => {
    assert.deepEqual(moduleCycles(readLayout()), []);
  });

  it(`keeps every folder of src under ${FOLDER_LINE_LIMIT} lines of code, tests apart`, () => {
    const over = [...readLayout().folderLines].filter(([, lines]) => lines > FOLDER_LINE_LIMIT);
    assert.deepEqual(over, [], 'split the folder by concern (docs/ARCHITECTURE.md, "Layout")');
  });

  it("lints imports past another folder's index.ts, and production imports of the harnesses", async () => {
    const deep = await layoutProblems(
      'src/http/probe.ts',
      "import { createViews } from '../web/views.ts';\nexport const x = createViews;\n",
    );
    assert.match(deep[0] ?? '', /import src\/web through its public surface, src\/web\/index\.ts/);
    assert.deepEqual(
      await layoutProblems(
        'src/http/probe.ts',
        "import { registerWeb } from '../web/index.ts';\nexport const x = registerWeb;\n",
      ),
      [],
    );
    // A sub-folder's index is still inside its parent: rules is reached through rules/index.ts.
    assert.equal(
      (
        await layoutProblems(
          'src/http/routes/probe.ts',
          "import { loadRuleSet } from '../../rules/engine/index.ts';\nexport const x = loadRuleSet;\n",
        )
      ).length,
      1,
    );
    assert.equal(
      (
        await layoutProblems(
          'src/rules/compiler/probe.ts',
          "import { loadRuleSet } from '../engine/load.ts';\nexport const x = loadRuleSet;\n",
        )
      ).length,
      1,
    );
    assert.deepEqual(
      await layoutProblems(
        'src/rules/compiler/probe.ts',
        "import { loadRuleSet } from '../engine/index.ts';\nexport const x = loadRuleSet;\n",
      ),
      [],
    );
    const harness = "import { testService } from '../testing/index.ts';\nexport const x = testService;\n";
    assert.match(
      (await layoutProblems('src/http/probe.ts', harness))[0] ?? '',
      /production code never imports the test harnesses/,
    );
    assert.deepEqual(await layoutProblems('src/http/probe.test.ts', harness), []);
  });
});
