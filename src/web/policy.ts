/** Installs the web loop as the default of `getEventLoop()`, `newEventLoop()` and `run()`, and the web platform as the host. */
import { _setDefaultLoopFactory } from '../kernel/events.js';
import { _setDefaultHost } from '../kernel/host.js';
import { webHost } from './host.js';
import { WebEventLoop } from './web_loop.js';

_setDefaultLoopFactory(() => new WebEventLoop());
_setDefaultHost(webHost);
