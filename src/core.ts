/**
 * `tulip/core`: tulip without a runtime. The kernel, the toolkit,
 * micro-threads, protocols and streams, with no loop installed as the
 * default and no reference to any runtime's own API (`node:` modules,
 * `process`, `Buffer`, `setImmediate`): it runs wherever JavaScript does.
 * Bring a loop: `tulip/web`'s `WebEventLoop`, `tulip`'s `NodeEventLoop`, or
 * your own `BaseEventLoop` subclass, passed to `run(main, { loop })` or
 * installed with `setEventLoopPolicy`.
 *
 * ```ts
 * import { BaseEventLoop, run, sleep } from 'tulip/core';
 * ```
 * @module tulip/core
 */
export * from './kernel/index.js';
export * from './toolkit/index.js';
export * from './toolkit/microthreads/index.js';
export * from './protocols/index.js';
export * from './streams/index.js';
