// Debug mode's never-driven report names where the coroutine was made: the first frame of its traceback is the
// caller's, whatever the engine's stack format (V8 and Bun start with an `Error` header line; Safari's
// JavaScriptCore and SpiderMonkey do not, and JavaScriptCore drops the frames of tail calls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { _creationFrames } from '../../src/kernel/debug.js';
import { coroutine, sleep, type ExceptionContext } from '../../src/index.js';
import { runRecording } from '../helpers.js';

test('the frames below the tulip function that made the coroutine, in V8\'s format and in JavaScriptCore\'s', () => {
  const v8 = [
    'Error',
    '    at sleep (file:///app/node_modules/tulip/dist/kernel/coro.js:80:13)',
    '    at main (file:///app/main.js:3:5)',
    '    at Task._run (file:///app/node_modules/tulip/dist/kernel/task.js:243:40)',
  ].join('\n');
  const jsc = [
    'sleep@file:///app/node_modules/tulip/dist/kernel/coro.js:80:13',
    'main@file:///app/main.js:3:5',
    '_run@file:///app/node_modules/tulip/dist/kernel/task.js:243:40',
  ].join('\n');
  assert.match(_creationFrames(v8).split('\n')[0]!, /at main \(file:\/\/\/app\/main\.js:3:5\)/);
  assert.equal(_creationFrames(jsc).split('\n')[0], 'main@file:///app/main.js:3:5');
});

test('this engine\'s report starts at the line that made the coroutine', async () => {
  const errors: ExceptionContext[] = [];
  const fetchUser = coroutine(function* fetchUser(id: number) { yield* sleep(1); return id; });
  const keep: unknown[] = [];
  await runRecording(function* () {
    keep.push(fetchUser(1)); const line1 = new Error().stack!.split('\n')[1]!;
    keep.push(sleep(5)); const line2 = new Error().stack!.split('\n')[1]!;
    keep.push(line1, line2);
    yield* sleep(0);
  }, errors, { debug: true });
  const [, , line1, line2] = keep as string[];
  const at = (frame: string): string => /debug\.test\.ts:(\d+)/.exec(frame)?.[1] ?? `no line in ${frame}`;
  const first = (e: ExceptionContext | undefined): string => String(e?.sourceTraceback).split('\n')[0]!;
  const byName = (n: string): ExceptionContext | undefined => errors.find((e) => e.message.includes(n));
  assert.equal(at(first(byName('fetchUser()'))), at(line1!));
  assert.equal(at(first(byName('sleep()'))), at(line2!));
});
