/** The kernel's public names (layer 1: see docs/design.md). */
export * from './errors.js';
export { ContextVar, Token } from './context.js';
export type { Context } from './context.js';
export { Handle, TimerHandle } from './handles.js';
export { Future } from './future.js';
export { Task, currentTask, eagerTaskFactory } from './task.js';
export { CancelScope } from './scope.js';
export type { CancelScopeOptions } from './scope.js';
export { currentSignal, defer } from './region.js';
export { cede, rehalt } from './traps.js';
export { coroutine } from './debug.js';
export { sleep, createTask, ensureFuture, fromPromise, allTasks } from './coro.js';
export { run } from './run.js';
export type { RunOptions } from './run.js';
export { BaseEventLoop } from './base_loop.js';
export type { Host } from './host.js';
export {
  toCoro, getRunningLoop, getEventLoop, setEventLoop, newEventLoop, getEventLoopPolicy, setEventLoopPolicy, DefaultEventLoopPolicy,
} from './events.js';
export type {
  Coro, CoroOrFn, Suspend, Awaitable, EventLoop, EventLoopPolicy, ExceptionContext, ExceptionHandler, TaskFactory, ConnectionOptions, ServerOptions,
} from './events.js';
export type * from './transport_types.js';
