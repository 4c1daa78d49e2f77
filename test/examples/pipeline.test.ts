// examples/pipeline.ts with real programs: the same output as the shell's pipeline, a reader that stops
// early, and no program left running when the pipeline fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, sleep } from 'tulip';
import { pipeline } from '../../examples/pipeline.js';
import { reap, runExample } from './helpers.js';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

void test('pipeline: prints what the shell prints for seq | grep | sort | head', async () => {
  const shell = spawnSync('sh', ['-c', 'seq 1 200000 | grep 7 | sort -r | head -n 5'], { encoding: 'utf8' });
  const ex = runExample('pipeline.ts');
  try {
    assert.equal(await ex.exited, 0, ex.err());
    const [output, codes] = ex.out().split('exit codes: ');
    assert.equal(output, shell.stdout);
    const [seq, grep, sort, head] = codes!.trim().split(' ').map(Number);
    assert.deepEqual([seq, grep, head], [0, 0, 0]);
    assert.ok(sort === 0 || sort === -15, `sort ended with ${sort}: done, or stopped once head stopped reading`);
  } finally {
    reap(ex);
  }
});

void test('pipeline: a megabyte through cat and wc arrives whole', async () => {
  const { output, codes } = await run(() => pipeline([['seq', '1', '150000'], ['cat'], ['wc', '-c']]), { handleSignals: false });
  const expected = spawnSync('sh', ['-c', 'seq 1 150000 | wc -c'], { encoding: 'utf8' }).stdout;
  assert.equal(output.trim(), expected.trim());
  assert.deepEqual(codes, [0, 0, 0]);
});

void test('pipeline: a stage that cannot start fails the pipeline, and the programs already started are killed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tulip-pipeline-'));
  const pidFile = join(dir, 'pid');
  await assert.rejects(
    run(function* () {
      return yield* pipeline([['sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`], ['tulip-no-such-program']]);
    }, { handleSignals: false }),
    (e: Error & { code?: string }) => e.code === 'ENOENT',
  );
  await run(function* () { for (let i = 0; i < 100 && !existsSync(pidFile); i++) yield* sleep(20); }, { handleSignals: false });
  const pid = Number(readFileSync(pidFile, 'utf8'));
  assert.ok(pid > 0);
  await run(function* () { for (let i = 0; i < 100 && alive(pid); i++) yield* sleep(20); }, { handleSignals: false });
  assert.equal(alive(pid), false, 'the first stage was killed with the task that started it');
});
