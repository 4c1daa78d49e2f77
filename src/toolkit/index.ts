/** The concurrency toolkit (layer 2 of DESIGN.md): built on the kernel's public API only. */
export { gather } from './gather.js';
export type { Result, GatherOptions } from './gather.js';
export { wait } from './wait.js';
export type { ReturnWhen, WaitOptions } from './wait.js';
export { waitFor } from './wait_for.js';
export { asCompleted } from './as_completed.js';
export type { AsCompletedOptions } from './as_completed.js';
export { shield } from './shield.js';
export { race } from './race.js';
export { timeout, timeoutAt, moveOnAfter, moveOnAt } from './timeout.js';
export type { Deadline } from './timeout.js';
export { TaskGroup, taskGroup } from './task_group.js';
export { Lock } from './lock.js';
export { Event } from './event.js';
export { Condition } from './condition.js';
export { Semaphore, BoundedSemaphore } from './semaphore.js';
export { Barrier } from './barrier.js';
export { Queue, PriorityQueue, LifoQueue } from './queue.js';
