/** ESLint's RuleTester wired to node:test, with and without type information (the fixture project). */
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

/** Where the type-aware cases live: their code is checked as this file of the fixture project. */
export const FIXTURE = join(import.meta.dirname, 'fixture');
export const TYPED_FILE = join(FIXTURE, 'file.ts');

/** The imports a type-aware case starts with: tulip's real types. */
export const TULIP = "import { CancelScope, Future, Lock, Queue, createTask, rehalt, sleep, type Coro } from '../../../src/index.js';\n";

/** Plain JavaScript, ESLint's default parser: syntax only. */
export const untyped = new RuleTester({ languageOptions: { ecmaVersion: 'latest', sourceType: 'module' } });

/** TypeScript with type information, as a project linting with typescript-eslint's `projectService` would. */
export const typed = new RuleTester({
  languageOptions: {
    parser: tseslint.parser,
    parserOptions: {
      project: join(FIXTURE, 'tsconfig.json'),
      tsconfigRootDir: FIXTURE,
      // With CI=true typescript-eslint assumes a one-shot lint and types each file as it is on disk, not the case's
      // code: every case would be checked as the fixture's empty file. RuleTester lints one file many times.
      disallowAutomaticSingleRunInference: true,
    },
  },
});
