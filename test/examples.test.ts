// The README's demo (`npm start`) keeps working: it runs the tour against the build (npm test builds first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('the tour runs to the end and shows cancellation, timeouts, a deadlock report and virtual time', () => {
  const tour = fileURLToPath(new URL('../examples/tour.js', import.meta.url));
  const r = spawnSync(process.execPath, [tour], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /awaiting it throws CancelledError/);
  assert.match(r.stdout, /caught TimeoutError/);
  assert.match(r.stdout, /flushed and closed by its deferred cleanup\n {2}awaiting it throws CancelledError/);
  assert.match(r.stdout, /the 60 s timer was aborted through its signal/);
  assert.match(r.stdout, /echoed: hello, tulip/);
  assert.match(r.stdout, /task 'helper' waiting on Lock\.acquire/);
  assert.match(r.stdout, /tour done\n$/);
});
