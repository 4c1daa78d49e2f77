/**
 * What a Node loop must close when it closes: transports and servers still
 * open. The registry itself is runtime-neutral (src/kernel/resources.ts),
 * since every loop with I/O keeps one; the Node backends import it here.
 */
export { type LoopResource, track, untrack, closeTracked, openResources } from '../kernel/resources.js';
