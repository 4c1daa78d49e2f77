/** Installs the Node loop as the default of `getEventLoop()`, `newEventLoop()` and `run()`. */
import { _setDefaultLoopFactory } from '../kernel/events.js';
import { NodeEventLoop } from './node_loop.js';

_setDefaultLoopFactory(() => new NodeEventLoop());
