// Lint with type information (typescript-eslint's recommendedTypeChecked), and with tulip's own plugin
// (tulip/eslint), loaded from its source so that linting needs no build.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { tsImport } from 'tsx/esm/api';

const { default: tulip } = await tsImport('./src/eslint/index.ts', import.meta.url);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tmp/**', 'docs/api/**', 'test/package/consumer/**'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Generators delegate with `yield*` to values typed `unknown` by design (Coro<T>).
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/no-this-alias': 'off',
      '@typescript-eslint/require-yield': 'off',
      'require-yield': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['**/*.ts', '**/*.js'],
    plugins: { tulip },
    rules: { 'tulip/require-rehalt': 'error' },
  },
  {
    files: ['**/*.ts'],
    rules: { 'tulip/no-floating-coroutine': 'error' },
  },
  {
    // Tests write cleanups that wait without rehalt() on purpose: bodies that a scope or a task drives directly
    // (which need none), and the JavaScript behaviour rehalt() exists for.
    files: ['test/**'],
    rules: { 'tulip/require-rehalt': 'off' },
  },
  {
    // node:test's test() returns a promise the runner tracks; benchmarks compare against plain async functions.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['**/*.js'],
    rules: { 'require-yield': 'off' },
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', TextDecoder: 'readonly', setTimeout: 'readonly', setImmediate: 'readonly', URL: 'readonly', performance: 'readonly', gc: 'readonly', globalThis: 'readonly' },
    },
  },
  {
    // The kernel and toolkit are runtime-agnostic (docs/design.md, Layers).
    files: ['src/kernel/**', 'src/toolkit/**', 'src/protocols/**', 'src/streams/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], message: 'Only the Node loop imports node: modules.' }] }],
      'no-restricted-globals': ['error', { name: 'performance', message: 'Read time through loop.time().' }, { name: 'setImmediate', message: 'Schedule through the loop.' }],
    },
  },
);
