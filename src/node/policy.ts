/** Installs the Node loop as the default of `getEventLoop()`, `newEventLoop()` and `run()`, and Node as the host. */
import { _setDefaultLoopFactory } from '../kernel/events.js';
import { _setDefaultHost } from '../kernel/host.js';
import { nodeHost } from './host.js';
import { NodeEventLoop } from './node_loop.js';

_setDefaultLoopFactory(() => new NodeEventLoop());
_setDefaultHost(nodeHost);
