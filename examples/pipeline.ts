/**
 * A shell-style pipeline of real programs: `seq 1 200000 | grep 7 | sort -r | head -n 5`,
 * wired by tulip instead of a shell.
 *
 * Shows: starting subprocesses with piped stdio (createSubprocessExec),
 * copying one's stdout into the next one's stdin with back-pressure (each
 * copy waits in `drain()` while the next program is slower), end of input
 * passed on (closing a stdin is the next program's EOF), a reader that
 * stops early (`head` exits; the copy into it gets EPIPE and, as a shell's
 * SIGPIPE would, ends the program before it), and a taskGroup: if any copy
 * fails, the others are halted and every program still running is killed
 * (a task owns the processes it starts).
 *
 * Run: npx tsx examples/pipeline.ts ["seq 1 200000" "grep 7" "sort -r" "head -n 5"]
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSubprocessExec, run, taskGroup, type Coro, type Process, type StreamReader, type StreamWriter } from 'tulip';

/** What a pipeline produced: the last program's output and every program's exit code. */
export interface PipelineResult { output: string; codes: number[] }

function isClosedPipe(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'EPIPE' || code === 'ECONNRESET';
}

/** Copy `from` into `to` until `from` ends, then close `to`. If `to`'s reader goes away, stop `source`. */
function* copy(from: StreamReader, to: StreamWriter, source: Process): Coro<void> {
  try {
    for (;;) {
      const chunk = yield* from.read(64 * 1024);
      if (chunk.length === 0) break;          // the program before finished its output
      to.write(chunk);
      yield* to.drain();                      // wait while the next program is behind
    }
    to.close();                               // its end of input
  } catch (e) {
    if (!isClosedPipe(e)) throw e;
    source.terminate();                       // the next program stopped reading: SIGPIPE, in effect
  }
}

/** Run `stages` (each `[program, ...args]`) as a pipeline. */
export function* pipeline(stages: string[][]): Coro<PipelineResult> {
  const procs: Process[] = [];
  for (const [i, [program, ...args]] of stages.entries()) {
    procs.push(yield* createSubprocessExec(program!, args, {
      stdin: i === 0 ? 'ignore' : 'pipe', stdout: 'pipe', stderr: 'inherit',
    }));
  }
  return yield* taskGroup(function* (tg) {
    for (let i = 1; i < procs.length; i++) {
      tg.createTask(copy(procs[i - 1]!.stdout!, procs[i]!.stdin!, procs[i - 1]!), { name: `${stages[i - 1]![0]} | ${stages[i]![0]}` });
    }
    const chunks: Uint8Array[] = [];
    const last = procs[procs.length - 1]!.stdout!;
    for (let c = yield* last.read(); c.length > 0; c = yield* last.read()) chunks.push(c);
    const codes: number[] = [];
    for (const p of procs) codes.push(yield* p.wait());
    return { output: Buffer.concat(chunks).toString('utf8'), codes };
  });
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {   // run, not imported
  const given = process.argv.slice(2);
  const stages = (given.length > 0 ? given : ['seq 1 200000', 'grep 7', 'sort -r', 'head -n 5']).map((s) => s.split(' '));
  const { output, codes } = await run(() => pipeline(stages));
  process.stdout.write(output);
  console.log(`exit codes: ${codes.join(' ')}`);
}
