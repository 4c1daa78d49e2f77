/**
 * `tulip/eslint`: an ESLint (9 or 10) flat-config plugin with two rules for
 * the two generator mistakes the types cannot catch everywhere:
 *
 * - `tulip/require-rehalt`: a `finally` block of a generator that itself
 *   contains a `yield*` must end with `yield* rehalt()`;
 * - `tulip/no-floating-coroutine` (type-aware): a call returning a
 *   coroutine used as a statement on its own, which does nothing.
 *
 * The plugin imports nothing at run time: ESLint passes it everything.
 * The type-aware rule reads the TypeScript program that typescript-eslint's
 * parser provides, so a project using it installs `typescript-eslint` (or
 * `@typescript-eslint/parser`) and `typescript`, and lints with
 * `parserOptions: { projectService: true }`.
 *
 * @module tulip/eslint
 */
import type { ESLint, Linter, Rule } from 'eslint';
import requireRehalt from './require_rehalt.js';
import noFloatingCoroutine from './no_floating_coroutine.js';

/**
 * The plugin's shape: ESLint's plugin, with its two rules and its
 * `recommended` config (an array of flat configs) named.
 * @example
 * import tulip, { type TulipEslintPlugin } from 'tulip/eslint';
 * const p: TulipEslintPlugin = tulip;
 * const rules = Object.keys(p.rules);   // ['require-rehalt', 'no-floating-coroutine']
 */
export interface TulipEslintPlugin extends ESLint.Plugin {
  /** The two rules, by their name in the plugin (`tulip/<name>` in a config's `rules`). */
  rules: {
    /** A generator's `finally` that contains a `yield*` must end with `yield* rehalt()`. */
    'require-rehalt': Rule.RuleModule;
    /** A coroutine made and dropped (a call returning a `Coro` used as a statement) is an error; type-aware. */
    'no-floating-coroutine': Rule.RuleModule;
  };
  /** The plugin's shared configs. */
  configs: {
    /** Both rules as errors: `require-rehalt` for every file, `no-floating-coroutine` for TypeScript files. */
    recommended: Linter.Config[];
  };
}

const TS_FILES = ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'];

/**
 * The plugin. `plugin.configs.recommended` turns both rules on as errors:
 * `require-rehalt` for every file, `no-floating-coroutine` for TypeScript
 * files (which need typescript-eslint's parser with type information).
 * @example
 * // eslint.config.js
 * import tseslint from 'typescript-eslint';
 * import tulip from 'tulip/eslint';
 * export default [
 *   ...tseslint.configs.recommendedTypeChecked,
 *   { languageOptions: { parserOptions: { projectService: true } } },
 *   ...tulip.configs.recommended,
 * ];
 */
const plugin: TulipEslintPlugin = {
  meta: { name: 'tulip/eslint', namespace: 'tulip' },
  rules: { 'require-rehalt': requireRehalt, 'no-floating-coroutine': noFloatingCoroutine },
  configs: { recommended: [] },
};
plugin.configs.recommended = [
  { name: 'tulip/recommended', plugins: { tulip: plugin }, rules: { 'tulip/require-rehalt': 'error' } },
  { name: 'tulip/recommended-type-checked', files: TS_FILES, plugins: { tulip: plugin }, rules: { 'tulip/no-floating-coroutine': 'error' } },
];

export default plugin;
