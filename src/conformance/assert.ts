/**
 * The few assertions the scenarios make, so that the suite needs nothing of
 * any runtime (no `node:assert`): strict equality, deep equality of plain
 * data (arrays, plain objects, primitives), truth, and a rejection.
 */

/** @internal the error a failed check throws. */
export class ConformanceFailure extends Error {
  constructor(message: string) { super(message); this.name = 'ConformanceFailure'; }
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** @internal `actual` is `expected` (`Object.is`). */
export function equal(actual: unknown, expected: unknown, what?: string): void {
  if (!Object.is(actual, expected)) throw new ConformanceFailure(`${what ?? 'value'}: expected ${show(expected)}, got ${show(actual)}`);
}

/** @internal `actual` has the same structure and values as `expected` (arrays, plain objects, primitives). */
export function deepEqual(actual: unknown, expected: unknown, what?: string): void {
  if (!same(actual, expected)) throw new ConformanceFailure(`${what ?? 'value'}: expected ${show(expected)}, got ${show(actual)}`);
}

/** @internal `cond` is true. */
export function ok(cond: unknown, what?: string): asserts cond {
  if (cond !== true) throw new ConformanceFailure(what ?? `expected true, got ${show(cond)}`);
}

/** @internal `p` rejects with an error `check` accepts. */
export async function rejects(p: Promise<unknown>, check: (e: unknown) => boolean, what?: string): Promise<void> {
  let outcome: { error: unknown } | null = null;
  try { await p; } catch (error) { outcome = { error }; }
  if (outcome === null) throw new ConformanceFailure(`${what ?? 'promise'}: expected a rejection, it resolved`);
  if (!check(outcome.error)) throw new ConformanceFailure(`${what ?? 'promise'}: rejected with an unexpected error: ${show(outcome.error)}`);
}
