// ESLint flat config (`npm run lint`). typescript-eslint's recommended rules everywhere, its
// type-aware rules (floating promises and friends) on the main-process project, Svelte's
// recommended rules on the components, and the renderer's import boundary (which also covers
// `import type` inside .svelte files, where the dependency-cruiser check cannot see it).
// Formatting is Prettier's job: eslint-config-prettier switches off every rule that overlaps.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { typeInputsDigest } from './scripts/lint-type-inputs.mjs';
import svelteConfig from './svelte.config.js';

/**
 * The UI may import only the contract (types) and core's pure helpers from src-main.
 * @type {import('eslint').Linter.RulesRecord}
 */
const rendererBoundary = {
  '@typescript-eslint/no-restricted-imports': [
    'error',
    {
      patterns: [
        {
          regex: 'src-main/(?!contract\\.ts$|core/)',
          message: "The UI imports only src-main/contract.ts (types) and src-main/core/'s pure helpers.",
        },
        {
          regex: 'src-main/contract\\.ts$',
          allowTypeImports: true,
          message: 'The UI takes only types from the contract: use `import type`.',
        },
      ],
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'out/',
      'dist/',
      'node_modules/',
      'test-results/',
      'playwright-report/',
      'bench/results/',
      'resources/',
      '.keyport-dev/',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  svelte.configs['flat/recommended'],
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // `json ? printJson(x) : write(text)` is the CLI's idiom for its two output modes.
      '@typescript-eslint/no-unused-expressions': ['error', { allowTernary: true, allowShortCircuit: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Node code: the main process, CLI, server, tests, benchmarks, scripts and configs.
    files: ['src-main/**', 'test/**', 'bench/**', 'bin/**', 'scripts/**', '*.js', '*.cjs', '*.ts'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Type-aware rules where a missed await or a misused promise loses data or an error: the
    // product's code. Tests and benchmarks keep every other rule (and tsc checks their types);
    // building the type program for them too doubled a fresh clone's lint time (61 s → 30 s of
    // CPU without them), which a cold `npm test` on a busy 2-core machine pays in full.
    files: ['src-main/**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.lint.json', tsconfigRootDir: import.meta.dirname } },
    // Part of ESLint's cache key (`npm run lint` runs `eslint --cache`): a verdict of these rules
    // depends on the types of other files, so any change to the type checker's inputs re-lints
    // every file here; the other files' results are reused while their own content is unchanged.
    settings: { keyportTypeInputs: typeInputsDigest(import.meta.dirname) },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
    },
  },
  {
    // The contract crosses every transport: its shapes are spelled out, never `any`.
    files: ['src-main/contract.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unsafe-function-type': 'error',
      '@typescript-eslint/no-empty-object-type': 'error',
    },
  },
  {
    // core/ is pure: no I/O, no framework, nothing of ours outside core/ (also checked by
    // dependency-cruiser; here the message shows in the editor).
    files: ['src-main/core/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./(?!core/)', message: 'core/ imports nothing of ours outside core/.' },
            {
              group: [
                'node:fs',
                'node:fs/*',
                'node:net',
                'node:http',
                'node:child_process',
                'electron',
                'aedes',
                'lowdb',
              ],
              message: 'core/ is pure: no I/O and no framework.',
            },
          ],
        },
      ],
    },
  },
  {
    // core/schemas/ is one level down: `../` is still core/, `../../` must lead back into core/.
    files: ['src-main/core/schemas/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./\\.\\./(?!core/)', message: 'core/ imports nothing of ours outside core/.' },
            {
              group: [
                'node:fs',
                'node:fs/*',
                'node:net',
                'node:http',
                'node:child_process',
                'electron',
                'aedes',
                'lowdb',
              ],
              message: 'core/ is pure: no I/O and no framework.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.svelte'],
    languageOptions: { globals: globals.browser },
    rules: rendererBoundary,
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: {
        parser: tseslint.parser,
        extraFileExtensions: ['.svelte'],
        svelteConfig,
      },
    },
    // `let { a, b } = $props()` is how Svelte 5 declares props; svelte/prefer-const knows runes.
    rules: {
      'prefer-const': 'off',
      'svelte/prefer-const': 'error',
      // Flags every `new Set()`/`new Map()`, also the local temporaries inside $derived and plain
      // functions (all of the renderer's uses); state here is replaced, never mutated in place.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  prettier,
  svelte.configs['flat/prettier'],
);
