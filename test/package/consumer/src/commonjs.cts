// A CommonJS module loads tulip (an ES module) with import(), as the README says.
async function main(): Promise<void> {
  const { run, sleep } = await import('tulip');
  const n = await run(function* () { yield* sleep(1); return 42; });
  console.log(`commonjs: ${n}`);
}
void main();
