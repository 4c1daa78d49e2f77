/**
 * How the rules recognise a coroutine in the type checker: a value whose
 * `next()` yields tulip's `Suspend` (events.ts). Structural on purpose, so a
 * `Coro<T>`, a `Generator<Suspend, T, unknown>` (what an unannotated
 * generator function that only uses `yield*` returns) and a hand-written
 * operation implementing `Coro` all count. Only the checker's methods are
 * used, so the plugin imports nothing from TypeScript at run time.
 */
import type * as ts from 'typescript';

/** The part of typescript-eslint's parser services the rules use. */
export interface TypedServices {
  program: ts.Program;
  esTreeNodeToTSNodeMap: { get(node: unknown): ts.Node };
}

/** The parser's services when it has type information (typescript-eslint with `projectService` or `project`). */
export function typedServices(services: unknown): TypedServices | null {
  const s = services as Partial<TypedServices> | undefined;
  return s?.program != null && s.esTreeNodeToTSNodeMap !== undefined ? (s as TypedServices) : null;
}

function members(t: ts.Type): readonly ts.Type[] { return t.isUnion() ? t.types : [t]; }

/** Is `t` tulip's `Suspend` (by name and by its `useYieldStar` brand)? */
function isSuspend(t: ts.Type): boolean {
  return members(t).some((m) => m.getSymbol()?.getName() === 'Suspend' && m.getProperties().some((p) => p.getName().startsWith('__@useYieldStar')));
}

/** The types a value of type `t` yields from `next()`, or null if it has no `next()`. */
export function yieldTypes(checker: ts.TypeChecker, t: ts.Type, at: ts.Node): ts.Type[] | null {
  let found: ts.Type[] | null = null;
  for (const m of members(t)) {
    const next = checker.getPropertyOfType(m, 'next');
    if (next === undefined) continue;
    for (const sig of checker.getTypeOfSymbolAtLocation(next, at).getCallSignatures()) {
      for (const r of members(sig.getReturnType())) {
        const done = checker.getPropertyOfType(r, 'done');
        if (done !== undefined && checker.typeToString(checker.getTypeOfSymbolAtLocation(done, at)) === 'true') continue;   // the return result
        const value = checker.getPropertyOfType(r, 'value');
        if (value !== undefined) (found ??= []).push(checker.getTypeOfSymbolAtLocation(value, at));
      }
    }
  }
  return found;
}

/** Is a value of type `t` (or one member of a union) a coroutine? */
export function isCoroType(checker: ts.TypeChecker, t: ts.Type, at: ts.Node): boolean {
  return yieldTypes(checker, t, at)?.some(isSuspend) ?? false;
}

/**
 * Is a value of type `t` certainly not a coroutine: an iterator whose yields
 * are known and are not `Suspend` (a generator of numbers, say)? `any` and
 * `unknown` yields leave the question open.
 */
export function isOtherIterator(checker: ts.TypeChecker, t: ts.Type, at: ts.Node): boolean {
  const ys = yieldTypes(checker, t, at);
  if (ys === null) return false;
  return ys.every((y) => !isSuspend(y) && !['any', 'unknown'].includes(checker.typeToString(y)));
}
