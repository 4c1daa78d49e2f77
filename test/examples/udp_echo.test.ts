// examples/udp_echo.ts: the echo server against a plain node:dgram client, and the program's own client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { reap, runExample } from './helpers.js';

void test('udp_echo --serve: every datagram of a real client comes back whole; SIGTERM stops it', async () => {
  const server = runExample('udp_echo.ts', ['--serve'], { PORT: '0' });
  const client = createSocket('udp4');
  try {
    const port = Number((await server.waitFor(/udp echo server on 127\.0\.0\.1:(\d+)/))[1]);
    client.bind(0, '127.0.0.1');
    await once(client, 'listening');
    const sent = [Buffer.from('hello'), Buffer.from([0, 255, 10, 13, 0]), Buffer.alloc(8000, 7)];
    const got: Buffer[] = [];
    client.on('message', (m: Buffer) => got.push(m));
    for (const d of sent) {
      client.send(d, port, '127.0.0.1');
      for (let i = 0; i < 200 && got.length < sent.indexOf(d) + 1; i++) await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(got, sent);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.err());
    assert.match(server.out(), /udp echo server stopped/);
  } finally {
    client.close();
    reap(server);
  }
});

void test('udp_echo as a program: five pings, five echoes', async () => {
  const ex = runExample('udp_echo.ts');
  try {
    assert.equal(await ex.exited, 0, ex.err());
    const lines = ex.out().trim().split('\n');
    assert.equal(lines.length, 5);
    lines.forEach((l, i) => assert.match(l, new RegExp(`^ping ${i}: \\d+\\.\\d\\d ms$`)));
  } finally {
    reap(ex);
  }
});
