/**
 * `tulip/no-floating-coroutine` (needs type information): a call that
 * returns a coroutine, used as a statement on its own, is a mistake: a
 * coroutine does nothing until it is driven, so `sleep(100);` or
 * `queue.put(x);` silently does nothing. Drive it (`yield* sleep(100)`),
 * start it (`createTask(...)`), or pass it on, store it or return it; an
 * explicit `void f()` says it is dropped on purpose.
 */
import type { Rule } from 'eslint';
import type * as ESTree from 'estree';
import { isCoroType, typedServices } from './coro_type.js';

type AnyNode = ESTree.Node & { parent?: AnyNode };

function insideGenerator(node: AnyNode): boolean {
  for (let p = node.parent; p !== undefined; p = p.parent) {
    if (p.type === 'FunctionDeclaration' || p.type === 'FunctionExpression') return p.generator === true;
    if (p.type === 'ArrowFunctionExpression') return false;
  }
  return false;
}

/** The calls an expression statement evaluates for their value: `f()`, `a?.f()`, each branch of `c ? f() : g()` and `a || f()`. */
function calls(e: ESTree.Expression): ESTree.Expression[] {
  switch (e.type) {
    case 'CallExpression': case 'NewExpression': return [e];
    case 'ChainExpression': return calls(e.expression);
    case 'ConditionalExpression': return [...calls(e.consequent), ...calls(e.alternate)];
    case 'LogicalExpression': return calls(e.right);
    case 'SequenceExpression': return calls(e.expressions[e.expressions.length - 1]!);
    default: return [];
  }
}

const rule: Rule.RuleModule = {
  meta: {
    type: 'problem',
    docs: {
      description: 'A call that returns a coroutine (Coro<T>) must be driven, started, passed on, stored or returned',
      recommended: true,
    },
    hasSuggestions: true,
    schema: [],
    messages: {
      floating: 'This call returns a coroutine, which does nothing until it is driven: `yield*` it, start it with '
        + '`createTask(...)`, or pass it on, store it or return it (`void` drops it on purpose).',
      addYieldStar: 'Drive it here with `yield*`.',
    },
  },
  create(context) {
    const typed = typedServices(context.sourceCode.parserServices);
    if (typed === null) {
      throw new Error('tulip/no-floating-coroutine needs type information: lint with typescript-eslint\'s parser and '
        + '`parserOptions: { projectService: true }` (or `project`), or turn the rule off for files without types.');
    }
    const checker = typed.program.getTypeChecker();
    return {
      ExpressionStatement(node: ESTree.ExpressionStatement & Rule.NodeParentExtension) {
        for (const call of calls(node.expression)) {
          const tsNode = typed.esTreeNodeToTSNodeMap.get(call);
          if (!isCoroType(checker, checker.getTypeAtLocation(tsNode), tsNode)) continue;
          const suggest: Rule.SuggestionReportDescriptor[] = [];
          if (call === node.expression && insideGenerator(node as AnyNode)) {
            suggest.push({ messageId: 'addYieldStar', fix: (fixer) => fixer.insertTextBefore(call, 'yield* ') });
          }
          context.report({ node: call, messageId: 'floating', suggest });
        }
      },
    };
  },
};

export default rule;
