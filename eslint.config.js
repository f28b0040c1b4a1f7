// Lint rules: typescript-eslint's recommended, type-aware set, plus the project's own habits and
// its layout: each folder of src with an index.ts is a module, and code outside a module imports
// only its index.ts; production code never imports the test harnesses in src/testing.
import { readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

/** Every folder below `dir` (itself included) that holds TypeScript, as a path from the root. */
function folders(dir) {
  const entries = readdirSync(join(root, dir), { withFileTypes: true });
  const own = entries.some((e) => e.isFile() && e.name.endsWith('.ts')) ? [dir] : [];
  return [
    ...own,
    ...entries
      .filter((e) => e.isDirectory() && e.name !== 'node_modules')
      .flatMap((e) => folders(posix.join(dir, e.name))),
  ];
}

const modules = folders('src').filter((dir) => readdirSync(join(root, dir)).includes('index.ts'));
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const relativeTo = (from, to) => {
  const path = posix.relative(from, to);
  return path.startsWith('.') ? path : `./${path}`;
};

/**
 * The layout rules for the files directly in one folder: for every module the folder is not
 * inside, anything under it but its index.ts is refused; production files also may not import
 * src/testing. Import paths are relative, so the patterns are written for each folder.
 */
function layoutRules(dir) {
  const surface = modules
    .filter((module) => dir !== module && !dir.startsWith(`${module}/`))
    .map((module) => ({
      regex: `^${escape(relativeTo(dir, module))}/(?!index\\.ts$)`,
      message: `import ${module} through its public surface, ${module}/index.ts (docs/ARCHITECTURE.md, "Layout").`,
    }));
  const harness = {
    regex: `^${escape(relativeTo(dir, 'src/testing'))}/`,
    message: 'production code never imports the test harnesses in src/testing.',
  };
  const production = dir.startsWith('src/') && dir !== 'src/testing' && !dir.startsWith('src/testing/');
  return [
    {
      files: [`${dir}/*.ts`],
      ignores: [`${dir}/*.test.ts`],
      rules: { 'no-restricted-imports': ['error', { patterns: production ? [...surface, harness] : surface }] },
    },
    { files: [`${dir}/*.test.ts`], rules: { 'no-restricted-imports': ['error', { patterns: surface }] } },
  ];
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'scratch/', 'coverage/', 'bench/node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['eslint.config.js', 'bin/*.js', 'scripts/*.js', 'src/web/public/*.js'],
        },
        tsconfigRootDir: root,
      },
    },
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='Math'][property.name='random']",
          message: 'Evaluation must be deterministic: no randomness.',
        },
      ],
    },
  },
  ...['src', 'bench', 'scripts'].flatMap(folders).flatMap(layoutRules),
  {
    // node:test's describe() and it() return promises the runner itself awaits.
    files: ['**/*.test.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node },
  },
  {
    // The console's script runs in the browser.
    files: ['src/web/public/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'module' },
  },
);
