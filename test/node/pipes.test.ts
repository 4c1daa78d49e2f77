import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, constants as fsc, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  Future, getRunningLoop, NodeEventLoop, type Protocol, type PushProducer, type ReadTransport, sleep, type WriteTransport,
} from '../../src/index.js';
import { runRecording } from '../helpers.js';

const T = { timeout: 10_000 };

class ReadRecorder implements Protocol {
  readonly trace: string[] = [];
  readonly lost = new Future<Error | undefined>({ description: 'ReadRecorder.lost' });
  connectionMade(): void { this.trace.push('made'); }
  dataReceived(d: Uint8Array): void { this.trace.push(`data ${Buffer.from(d).toString()}`); }
  eofReceived(): void { this.trace.push('eof'); }
  connectionLost(exc?: Error): void { this.trace.push(`lost ${exc?.message}`); this.lost.setResult(exc); }
}

class WriteRecorder implements Protocol {
  readonly trace: string[] = [];
  readonly lost = new Future<Error | undefined>({ description: 'WriteRecorder.lost' });
  connectionMade(): void { this.trace.push('made'); }
  pauseWriting(): void { this.trace.push('pause'); }
  resumeWriting(): void { this.trace.push('resume'); }
  connectionLost(exc?: Error): void { this.trace.push(`lost ${exc?.message}`); this.lost.setResult(exc); }
}

void test('read pipe over a Node stream: made, data, eof, lost, in order', T, async () => {
  const trace = await runRecording(function* () {
    const s = new PassThrough();
    const [t, p] = yield* getRunningLoop().connectReadPipe(() => new ReadRecorder(), s);
    assert.equal(t.isReading(), true);
    s.write('a');
    yield* sleep(10);
    s.end('b');
    yield* p.lost;
    assert.equal(t.isClosing(), true);
    return p.trace;
  });
  // A pipe has no message boundaries: chunks may arrive joined.
  const data = trace.filter((e) => e.startsWith('data ')).map((e) => e.slice(5)).join('');
  assert.equal(data, 'ab');
  assert.deepEqual(trace.filter((e) => !e.startsWith('data ')), ['made', 'eof', 'lost undefined']);
  assert.equal(trace.at(-3)?.startsWith('data '), true);   // eof comes after the last data
});

void test('pauseReading stops dataReceived until resumeReading', T, async () => {
  const trace = await runRecording(function* () {
    const s = new PassThrough();
    const [t, p] = yield* getRunningLoop().connectReadPipe(() => new ReadRecorder(), s);
    t.pauseReading();
    assert.equal(t.isReading(), false);
    s.write('x');
    yield* sleep(20);
    p.trace.push('resume');
    t.resumeReading();
    yield* sleep(20);
    t.close();
    s.write('after close');
    yield* p.lost;
    return p.trace;
  });
  assert.deepEqual(trace, ['made', 'resume', 'data x', 'lost undefined']);
});

void test('read pipe over a file descriptor: a FIFO fed by a child process, and a regular file', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tulip-pipe-'));
  try {
    const fifo = join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const file = join(dir, 'file');
    writeFileSync(file, 'from a file');
    const [a, b] = await runRecording(function* () {
      const loop = getRunningLoop();
      const fd = openSync(fifo, fsc.O_RDONLY | fsc.O_NONBLOCK);
      const [, p] = yield* loop.connectReadPipe(() => new ReadRecorder(), fd);
      spawn('sh', ['-c', `printf hello > ${fifo}`], { stdio: 'ignore' });
      yield* p.lost;
      const [, q] = yield* loop.connectReadPipe(() => new ReadRecorder(), openSync(file, 'r'));
      yield* q.lost;
      return [p.trace, q.trace];
    });
    assert.deepEqual(a, ['made', 'data hello', 'eof', 'lost undefined']);
    assert.deepEqual(b, ['made', 'data from a file', 'eof', 'lost undefined']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('an exception in dataReceived goes to the handler and aborts the transport with it', T, async () => {
  const errors: { message: string; exception?: unknown }[] = [];
  const r = await runRecording(function* () {
    class Bad extends ReadRecorder { override dataReceived(): void { throw new Error('bad data'); } }
    const s = new PassThrough();
    const [, p] = yield* getRunningLoop().connectReadPipe(() => new Bad(), s);
    s.write('x');
    const exc = yield* p.lost;
    return { exc, destroyed: s.destroyed, trace: p.trace };
  }, errors as never);
  assert.equal(errors.length, 1);
  assert.equal((errors[0]!.exception as Error).message, 'bad data');
  assert.equal(r.exc?.message, 'bad data');
  assert.equal(r.destroyed, true);
  assert.deepEqual(r.trace, ['made', 'lost bad data']);
});

void test('write pipe: pauseWriting inside the write that passes 64 KiB, resumeWriting once drained to 16 KiB', T, async () => {
  const r = await runRecording(function* () {
    // The reader starts reading only after 200 ms: until then the OS pipe and our buffer fill up.
    const child = spawn('sh', ['-c', 'sleep 0.2; exec cat > /dev/null'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const [t, p] = yield* getRunningLoop().connectWritePipe(() => new WriteRecorder(), child.stdin);
    assert.deepEqual(t.getWriteBufferLimits(), [16 * 1024, 64 * 1024]);
    const chunk = Buffer.alloc(16 * 1024, 97);
    let writes = 0;
    while (!p.trace.includes('pause')) { t.write(chunk); writes++; assert.ok(writes < 1000); }
    const sizeAtPause = t.getWriteBufferSize();
    while (!p.trace.includes('resume')) yield* sleep(5);
    const sizeAtResume = t.getWriteBufferSize();
    t.close();
    t.write('ignored after close');
    yield* p.lost;
    return { trace: p.trace, sizeAtPause, sizeAtResume, final: t.getWriteBufferSize() };
  });
  assert.equal(r.trace[0], 'made');
  assert.equal(r.trace.at(-1), 'lost undefined');
  assert.ok(r.sizeAtPause > 64 * 1024, `size at pause ${r.sizeAtPause}`);
  assert.ok(r.sizeAtResume <= 16 * 1024, `size at resume ${r.sizeAtResume}`);
});

void test('setWriteBufferLimits: asyncio defaults, validation, and a producer paused and resumed with the protocol', T, async () => {
  const trace = await runRecording(function* () {
    const s = new PassThrough({ highWaterMark: 1 });
    const [t, p] = yield* getRunningLoop().connectWritePipe(() => new WriteRecorder(), s);
    t.setWriteBufferLimits(400);
    assert.deepEqual(t.getWriteBufferLimits(), [100, 400]);
    t.setWriteBufferLimits(undefined, 10);
    assert.deepEqual(t.getWriteBufferLimits(), [10, 40]);
    assert.throws(() => t.setWriteBufferLimits(5, 10), RangeError);
    const producer: PushProducer = {
      pauseProducing: () => p.trace.push('producer pause'),
      resumeProducing: () => p.trace.push('producer resume'),
      stopProducing: () => p.trace.push('producer stop'),
    };
    t.registerProducer(producer);
    t.write(Buffer.alloc(50));
    p.trace.push('wrote');
    s.resume();   // the consumer reads everything
    while (t.getWriteBufferSize() > 0) yield* sleep(1);
    t.abort(new Error('enough'));
    yield* p.lost;
    return p.trace;
  });
  assert.deepEqual(trace, ['made', 'pause', 'producer pause', 'wrote', 'resume', 'producer resume', 'producer stop', 'lost enough']);
});

void test('writeEof closes a write pipe after flushing; canWriteEof is true', T, async () => {
  const r = await runRecording(function* () {
    const s = new PassThrough();
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    const [t, p] = yield* getRunningLoop().connectWritePipe(() => new WriteRecorder(), s);
    assert.equal(t.canWriteEof(), true);
    t.write('abc');
    t.writeEof();
    assert.equal(t.isClosing(), true);
    yield* p.lost;
    return Buffer.concat(chunks).toString();
  });
  assert.equal(r, 'abc');
});

void test('a write pipe whose reader closed: EPIPE arrives in connectionLost, write never throws', T, async () => {
  const errors: unknown[] = [];
  const exc = await runRecording(function* () {
    const child = spawn('sh', ['-c', 'exec 0<&-; exec sleep 5'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      const [t, p] = yield* getRunningLoop().connectWritePipe(() => new WriteRecorder(), child.stdin);
      yield* sleep(50);
      for (let i = 0; i < 50 && !p.lost.done(); i++) { t.write(Buffer.alloc(4096)); yield* sleep(2); }
      const lost: NodeJS.ErrnoException | undefined = yield* p.lost;
      return lost;
    } finally {
      child.kill('SIGKILL');
    }
  }, errors as never);
  assert.equal(exc?.code, 'EPIPE');
  assert.deepEqual(errors, []);
});

void test('loop.close() aborts pipe transports still open: connectionLost is called', T, async () => {
  const loop = new NodeEventLoop();
  let p!: ReadRecorder;
  let t!: ReadTransport;
  let w!: WriteTransport;
  const s = new PassThrough();
  await runRecording(function* () {
    [t, p] = yield* getRunningLoop().connectReadPipe(() => new ReadRecorder(), s);
    [w] = yield* getRunningLoop().connectWritePipe(() => ({}), new PassThrough());
  }, [], { loop });
  assert.deepEqual(p.trace, ['made', 'lost undefined']);
  assert.equal(t.isClosing(), true);
  assert.equal(w.isClosing(), true);
  assert.equal(s.destroyed, true);
});

void test('bad input: not a stream, an fd that is not open', T, async () => {
  await runRecording(function* () {
    const loop = getRunningLoop();
    let e1: unknown, e2: unknown;
    try { yield* loop.connectReadPipe(() => ({}), {}); } catch (e) { e1 = e; }
    assert.ok(e1 instanceof TypeError);
    const fd = openSync('/dev/null', 'r');
    closeSync(fd);
    try { yield* loop.connectWritePipe(() => ({}), fd); } catch (e) { e2 = e; }
    assert.equal((e2 as NodeJS.ErrnoException).code, 'EBADF');
  });
});

void test('abort(exc) called from a Node callback (outside any loop tick) still delivers exc to connectionLost', T, async () => {
  const exc = await runRecording(function* () {
    const [t, p] = yield* getRunningLoop().connectWritePipe(() => new WriteRecorder(), new PassThrough());
    setTimeout(() => t.abort(new Error('from outside')), 5);
    return yield* p.lost;
  });
  assert.equal(exc?.message, 'from outside');
});

void test('a write pipe already closed when connected: connectionMade, then connectionLost, in that order', T, async () => {
  const trace = await runRecording(function* () {
    const s = new PassThrough();
    s.destroy();
    const [t, p] = yield* getRunningLoop().connectWritePipe(() => new WriteRecorder(), s);
    yield* p.lost;
    t.write('ignored');   // writing to a lost transport is ignored, never thrown
    return p.trace;
  });
  assert.deepEqual(trace, ['made', 'lost undefined']);
});

void test('writeLines on a write pipe: every chunk, in order, then close flushes them', T, async () => {
  const r = await runRecording(function* () {
    const s = new PassThrough();
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    const [t, p] = yield* getRunningLoop().connectWritePipe(() => new WriteRecorder(), s);
    t.writeLines(['a', Buffer.from('b'), '', 'c'.repeat(70_000), 'd']);
    t.close();
    yield* p.lost;
    return { text: Buffer.concat(chunks).toString(), trace: p.trace };
  });
  assert.equal(r.text, `ab${'c'.repeat(70_000)}d`);
  assert.equal(r.trace[0], 'made');
  assert.equal(r.trace.at(-1), 'lost undefined');
});
