import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('../fixtures/main_cli.ts', import.meta.url));

function cli(mode: string, interrupt = false): Promise<{ out: string; err: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const killer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`hung: ${out} ${err}`)); }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (interrupt && out.includes('ready')) { interrupt = false; child.kill('SIGINT'); }
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => { clearTimeout(killer); resolve({ out, err, code }); });
  });
}

void test('main(): a program that returns exits 0; one that set its own exit code keeps it', async () => {
  const ok = await cli('ok');
  assert.equal(ok.out, 'returned\nexitCode 0\n');
  assert.equal(ok.code, 0);
  const own = await cli('code');
  assert.equal(own.code, 4);
});

void test('main(): an error is printed once, without tulip\'s own stack frames, and the exit code is 1', async () => {
  const r = await cli('fail');
  assert.equal(r.code, 1);
  assert.equal(r.out, 'exitCode 1\n');
  assert.equal(r.err.split('something broke in deepest()').length - 1, 1, r.err);
  assert.match(r.err, /at deepest \(.*main_cli\.ts/);
  assert.match(r.err, /at middle \(.*main_cli\.ts/);
  assert.doesNotMatch(r.err, /src\/(kernel|node|toolkit)\//);
  assert.doesNotMatch(r.err, /Generator\.next/);
});

void test('main(): the first Ctrl-C cancels the program (its cleanup runs) and the exit code is 130', async () => {
  const r = await cli('sigint', true);
  assert.equal(r.out, 'ready\ncleaned up\nexitCode 130\n');
  assert.equal(r.err, '');
  assert.equal(r.code, 130);
});
