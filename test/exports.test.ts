// Pins the public export lists: an accidental rename or removal (or an accidental new export) fails here.
// It imports the built package by its name, as users do (npm test builds first). To add a public name on
// purpose, add it here too.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const MAIN = [
  'AsyncEvent', 'Barrier', 'BaseEventLoop', 'BoundedSemaphore', 'BrokenBarrierError', 'CancelScope', 'CancelledError', 'ChunkProtocol',
  'Condition', 'ContextVar', 'DEFAULT_HIGH_WATER', 'DEFAULT_LIMIT', 'DeadlockError', 'DefaultEventLoopPolicy', 'Event',
  'Future', 'Handle', 'IncompleteReadError', 'InvalidStateError', 'LifoQueue', 'LimitOverrunError', 'Lock', 'MicroThread',
  'NodeEventLoop', 'NodeServer', 'NotImplementedError', 'PipeClosedError', 'PriorityQueue', 'Process', 'Queue', 'QueueEmpty',
  'QueueFull', 'QueueShutDown', 'STDOUT', 'Semaphore', 'SocketTransport', 'StreamReader', 'StreamReaderProtocol',
  'StreamTransportBase', 'StreamWriter', 'Task', 'TaskGroup', 'ThreadPoolExecutor', 'TimeoutError', 'TimerHandle', 'Token',
  'allTasks', 'asCompleted', 'cede', 'connectionLostError', 'coroutine', 'createSubprocessExec', 'createSubprocessShell',
  'createTask', 'currentTask', 'eagerTaskFactory', 'ensureFuture', 'fromPromise', 'gather', 'generate', 'getEventLoop',
  'getEventLoopPolicy', 'getRunningLoop', 'moveOnAfter', 'moveOnAt', 'newEventLoop', 'openConnection', 'openUnixConnection',
  'parallelMap', 'pipe', 'put', 'race', 'rehalt', 'run', 'setEventLoop', 'setEventLoopPolicy', 'shield', 'sleep',
  'startAndForget', 'startInParallel', 'startServer', 'startUnixServer', 'stdin', 'takeFrom', 'taskGroup', 'timeout',
  'timeoutAt', 'toCoro', 'toThread', 'wait', 'waitFor',
  'WebEventLoop', 'WebSocketTransport', 'createWebSocketConnection',
  'FileProducer', 'JsonRpcError', 'JsonRpcErrorCode', 'JsonRpcProtocol', 'ProtocolTransport', 'StackedProtocol',
  'SubprocessPipesProtocol', 'stack',
  // scope signals, defer, cancelling from outside (issue 10)
  'cancelOn', 'currentSignal', 'defer', 'main',
  // interop (issue 12)
  'EventOverflowError', 'IterationError', 'Lines', 'Subscription', 'TextStreamReader', 'copy', 'coroIterator', 'each',
  'fromReadable', 'fromReadableStream', 'fromWritableStream', 'handleNodeRequests', 'on', 'once', 'toDuplex', 'toReadable', 'toReadableStream',
  'toWritable', 'toWritableStream',
];
const TESTING = [
  'TestEventLoop', 'VirtualDatagramTransport', 'VirtualNetwork', 'VirtualServer', 'VirtualTransport', 'runVirtual', 'seededRandom',
  'ExplorationError', 'SimulationError', 'exploreCancellation', 'simulate',
];
const CONFORMANCE = ['conformanceScenarios', 'runConformance'];
const HTTP = [
  'DEFAULT_BODY_LIMIT', 'DEFAULT_LIMITS', 'Headers', 'HttpBody', 'HttpClient', 'HttpClientResponse', 'HttpClientTransport', 'HttpError',
  'HttpRequest', 'HttpResponse', 'HttpServer', 'STATUS_TEXT', 'createHttpConnection', 'httpMessageHandler', 'serveHttp', 'serveHttpUnix',
];
/** What only the Node entry has: its loop and the backends that need Node's modules. */
const NODE_ONLY = [
  'FileProducer', 'NodeEventLoop', 'NodeServer', 'Process', 'STDOUT', 'SocketTransport', 'ThreadPoolExecutor',
  'createSubprocessExec', 'createSubprocessShell', 'toThread', 'main',
  // the bridges to Node's streams and node:http (the host-neutral ones are in the core)
  'fromReadable', 'handleNodeRequests', 'toDuplex', 'toReadable', 'toWritable',
];
/** What the web entry adds to the core (the Node entry has them too). */
const WEB_ONLY = ['WebEventLoop', 'WebSocketTransport', 'createWebSocketConnection'];
const CORE = MAIN.filter((n) => !NODE_ONLY.includes(n) && !WEB_ONLY.includes(n));

async function names(spec: string): Promise<string[]> {
  return Object.keys((await import(spec)) as Record<string, unknown>).sort();
}

test('tulip exports exactly its public names', async () => {
  assert.deepEqual(await names('tulip'), [...MAIN].sort());
});

test('tulip/core is the main entry without the Node and web loops; tulip/web is the core with the web loop', async () => {
  assert.deepEqual(await names('tulip/core'), [...CORE].sort());
  assert.deepEqual(await names('tulip/web'), [...CORE, ...WEB_ONLY].sort());
});

test('tulip/testing and tulip/conformance export exactly their public names', async () => {
  assert.deepEqual(await names('tulip/testing'), [...TESTING].sort());
  assert.deepEqual(await names('tulip/conformance'), [...CONFORMANCE].sort());
});

test('tulip/http exports exactly its public names', async () => {
  assert.deepEqual(await names('tulip/http'), [...HTTP].sort());
});
