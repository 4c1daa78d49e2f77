// Pins the public export list: an accidental rename or removal fails here.
// It imports the built package by its name, as users do (npm test builds first).
import { test } from 'node:test';
import assert from 'node:assert/strict';

const KERNEL = [
  'BaseEventLoop', 'BrokenBarrierError', 'CancelScope', 'CancelledError', 'ContextVar', 'DeadlockError',
  'DefaultEventLoopPolicy', 'Future', 'Handle', 'IncompleteReadError', 'InvalidStateError', 'LimitOverrunError',
  'NodeEventLoop', 'NotImplementedError', 'PipeClosedError', 'QueueEmpty', 'QueueFull', 'QueueShutDown', 'Task',
  'TimeoutError', 'TimerHandle', 'Token', 'allTasks', 'cede', 'coroutine', 'createTask', 'currentTask', 'ensureFuture',
  'fromPromise', 'getEventLoop', 'getEventLoopPolicy', 'getRunningLoop', 'newEventLoop', 'run', 'setEventLoop',
  'setEventLoopPolicy', 'sleep',
];

test('the main entry exports at least the kernel names of API.md', async () => {
  const mod = (await import('tulip')) as Record<string, unknown>;
  const names = Object.keys(mod).sort();
  for (const n of KERNEL) assert.ok(names.includes(n), `missing export ${n}`);
});

test('tulip/testing and tulip/conformance resolve', async () => {
  await import('tulip/testing');
  await import('tulip/conformance');
});
