/** Micro-threads and micro-pipes (the micro-threading proposal; docs/design.md "Micro-threads and micro-pipes"). */
export { pipe } from './pipe.js';
export type { PipeReader, PipeWriter } from './pipe.js';
export { MicroThread, startAndForget, startInParallel, generate, put, takeFrom, stdin } from './threads.js';
export { parallelMap } from './parallel_map.js';
