/**
 * `tulip/require-rehalt`: a `finally` block of a generator that itself
 * contains a `yield*` must end with `yield* rehalt()`.
 *
 * Why: JavaScript's `yield*` forgets a `return()` once the frame below has
 * suspended in a `finally` and then finished it, so the frame above resumes
 * as if the call had returned normally, and a cancelled caller runs on.
 * `yield* rehalt()` as the last statement of such a cleanup delivers the
 * halt again. (Or register the cleanup with `defer`, which its scope drives.)
 *
 * Accepted endings: `yield* rehalt()` (also `tulip.rehalt()`), and the
 * conditional forms tulip's own frames use where they know when a halt is
 * under way: an `if` whose branch ends with it, `cond && (yield* rehalt())`,
 * a block or nested `try` ending with it. With type information, a
 * generator whose yields are known not to be tulip's (a plain iterator of
 * numbers) is left alone.
 */
import type { Rule } from 'eslint';
import type * as ESTree from 'estree';
import { isOtherIterator, typedServices } from './coro_type.js';

type AnyNode = ESTree.Node & { parent?: AnyNode };

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/** Does `node` contain a `yield*` of its own (not inside a nested function)? */
function hasDelegatingYield(node: ESTree.Node, keys: Record<string, readonly string[] | undefined>): boolean {
  if (node.type === 'YieldExpression' && node.delegate) return true;
  for (const k of keys[node.type] ?? []) {
    const v = (node as unknown as Record<string, unknown>)[k];
    for (const c of Array.isArray(v) ? v : [v]) {
      if (c === null || typeof c !== 'object' || typeof (c as { type?: unknown }).type !== 'string') continue;
      if (FUNCTIONS.has((c as ESTree.Node).type)) continue;
      if (hasDelegatingYield(c as ESTree.Node, keys)) return true;
    }
  }
  return false;
}

/** Is `e` `yield* rehalt()` (or `yield* x.rehalt()`), possibly in parentheses or after `cond &&`? */
function isRehalt(e: ESTree.Expression | null | undefined): boolean {
  if (e == null) return false;
  if (e.type === 'LogicalExpression' && e.operator === '&&') return isRehalt(e.right);
  if (e.type !== 'YieldExpression' || !e.delegate || e.argument?.type !== 'CallExpression') return false;
  const callee = e.argument.callee;
  if (callee.type === 'Identifier') return callee.name === 'rehalt';
  return callee.type === 'MemberExpression' && !callee.computed && callee.property.type === 'Identifier' && callee.property.name === 'rehalt';
}

/** Does statement `s` end with `yield* rehalt()` on the paths that may have waited? */
function endsWithRehalt(s: ESTree.Statement | null | undefined, keys: Record<string, readonly string[] | undefined>): boolean {
  if (s == null) return false;
  switch (s.type) {
    case 'ExpressionStatement': return isRehalt(s.expression);
    case 'BlockStatement': return s.body.length > 0 && endsWithRehalt(s.body[s.body.length - 1], keys);
    case 'IfStatement':
      if (endsWithRehalt(s.consequent, keys)) return s.alternate == null || endsWithRehalt(s.alternate, keys) || !hasDelegatingYield(s.alternate, keys);
      return s.alternate != null && endsWithRehalt(s.alternate, keys) && !hasDelegatingYield(s.consequent, keys);
    case 'TryStatement': return endsWithRehalt(s.finalizer, keys) || (s.handler == null && endsWithRehalt(s.block, keys));
    case 'LabeledStatement': return endsWithRehalt(s.body, keys);
    default: return false;
  }
}

function enclosingFunction(node: AnyNode): AnyNode | null {
  for (let p = node.parent; p !== undefined; p = p.parent) if (FUNCTIONS.has(p.type)) return p;
  return null;
}

const rule: Rule.RuleModule = {
  meta: {
    type: 'problem',
    docs: {
      description: 'A finally block of a coroutine that waits (contains yield*) must end with `yield* rehalt()`',
      recommended: true,
    },
    hasSuggestions: true,
    schema: [],
    messages: {
      missing: 'A finally block that waits (yield*) must end with `yield* rehalt()`, or a halted caller resumes as if the '
        + 'call had returned; or register the cleanup with `yield* defer(...)`.',
      addRehalt: 'Add `yield* rehalt();` at the end of the finally block.',
    },
  },
  create(context) {
    const source = context.sourceCode;
    const keys = source.visitorKeys as Record<string, readonly string[] | undefined>;
    const typed = typedServices(source.parserServices);
    return {
      TryStatement(node: ESTree.TryStatement & Rule.NodeParentExtension) {
        const fin = node.finalizer;
        if (fin == null || !hasDelegatingYield(fin, keys)) return;
        const fn = enclosingFunction(node as AnyNode) as (ESTree.Function & AnyNode) | null;
        if (fn === null || !fn.generator) return;
        if (endsWithRehalt(fin, keys)) return;
        if (typed !== null) {
          const checker = typed.program.getTypeChecker();
          const tsFn = typed.esTreeNodeToTSNodeMap.get(fn);
          const sig = checker.getSignatureFromDeclaration(tsFn as Parameters<typeof checker.getSignatureFromDeclaration>[0]);
          if (sig !== undefined && isOtherIterator(checker, sig.getReturnType(), tsFn)) return;
        }
        const last = fin.body[fin.body.length - 1]!;   // not empty: it has a yield*
        const onOneLine = last.loc!.start.line === fin.loc!.start.line;
        const text = onOneLine ? ' yield* rehalt();' : `\n${' '.repeat(last.loc!.start.column)}yield* rehalt();`;
        context.report({
          node: fin,
          messageId: 'missing',
          suggest: [{ messageId: 'addRehalt', fix: (fixer) => fixer.insertTextAfter(last, text) }],
        });
      },
    };
  },
};

export default rule;
