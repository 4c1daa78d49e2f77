/**
 * Context variables, as asyncio's `contextvars`: a task runs in a copy of its
 * creator's context, a callback in the context captured when it was
 * scheduled.
 *
 * A context is an immutable map from variable to value. "Copying" one is
 * sharing the reference, and `set()` replaces the current map with a new
 * one, so capturing the context when a callback is scheduled costs one
 * pointer and no allocation: the scheduler's hot path stays cheap, and the
 * rare `set()` pays instead.
 */

/** The immutable map a context is. @example const ctx: Context = new Map(); */
export type Context = ReadonlyMap<ContextVar<unknown>, unknown>;

const EMPTY: Context = new Map();
let current: Context = EMPTY;

/** The context in force now (internal: the scheduler captures and restores it). */
export function currentContext(): Context { return current; }

/** Make `ctx` the current context and return the one it replaced (internal). */
export function swapContext(ctx: Context): Context {
  const prev = current;
  current = ctx;
  return prev;
}

/** The context a new root (a fresh loop's first task) starts from. */
export function emptyContext(): Context { return EMPTY; }

/**
 * Returned by {@link ContextVar.set}; pass it to {@link ContextVar.reset} to undo that `set()`.
 * @example
 * const user = new ContextVar<string>('user', { default: 'nobody' });
 * const token = user.set('alice');
 * try { yield* sleep(10); console.log(user.get()); } finally { user.reset(token); }   // alice
 * console.log(user.get());   // nobody
 */
export class Token<T = unknown> {
  /** @internal */
  constructor(
    /** The variable that was set. */
    readonly variable: ContextVar<T>,
    /** Its value before, or {@link Token.MISSING} if it had none. */
    readonly oldValue: T | typeof Token.MISSING,
    /** The context the variable was set in. */
    readonly context: Context,
  ) {}
  /** `oldValue` when the variable had no value before. */
  static readonly MISSING: unique symbol = Symbol('Token.MISSING');
}

/**
 * A variable whose value belongs to the running task (and the tasks it
 * creates, which start from a copy of its context).
 * @example
 * const requestId = new ContextVar<string>('requestId', { default: '-' });
 * function* handler() { requestId.set('r1'); yield* sleep(10); console.log(requestId.get()); } // 'r1'
 */
export class ContextVar<T> {
  /** The name given to the constructor, for debugging. */
  readonly name: string;
  readonly #hasDefault: boolean;
  readonly #default: T | undefined;

  constructor(name: string, opts?: { default?: T }) {
    this.name = name;
    this.#hasDefault = opts !== undefined && 'default' in opts;
    this.#default = opts?.default;
  }

  /** The value in the current context, else the default; throws `LookupError`-like `Error` if neither. */
  get(): T {
    if (current.has(this)) return current.get(this) as T;
    if (this.#hasDefault) return this.#default as T;
    throw new Error(`ContextVar '${this.name}' has no value and no default`);
  }

  /** Set the value in the current context only. */
  set(value: T): Token<T> {
    const had = current.has(this);
    const old = had ? (current.get(this) as T) : Token.MISSING;
    const next = new Map(current);
    next.set(this, value);
    current = next;
    return new Token<T>(this, old, current);
  }

  /** Undo the `set()` that returned `token`. */
  reset(token: Token<T>): void {
    if (token.variable !== this) throw new Error('token was created by another ContextVar');
    const next = new Map(current);
    if (token.oldValue === Token.MISSING) next.delete(this);
    else next.set(this, token.oldValue);
    current = next;
  }

  /** A short description for logs and debugging. */
  toString(): string { return `<ContextVar ${this.name}>`; }
}
