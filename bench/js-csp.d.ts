/** The part of js-csp (no bundled types) that bench/pipes.bench.ts uses. */
declare module 'js-csp' {
  namespace csp {
    interface Channel { readonly __cspChannel?: never }
    interface Instruction { readonly __cspInstruction?: never }
    function chan(): Channel;
    function go<A extends unknown[]>(gen: (...args: A) => Generator<unknown, unknown, unknown>, args?: A): Channel;
    function put(ch: Channel, v: unknown): Instruction;
    function take(ch: Channel): Instruction;
    function takeAsync(ch: Channel, cb: (v: any) => void): void;
  }
  export default csp;
}
