// examples/chat_server.ts with real clients: broadcast, a client that vanishes, Ctrl-C closing every client
// (the server owns its connections: clients still connected, one of them silent, do not keep it from ending).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineClient, reap, runExample } from './helpers.js';

void test('chat: lines reach the others, a vanished client is announced, Ctrl-C says goodbye to and closes everyone', async () => {
  const server = runExample('chat_server.ts', [], { PORT: '0' });
  try {
    const port = Number((await server.waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
    const alice = await lineClient(port);
    await alice.waitFor('Your name?');
    alice.socket.write('alice\n');
    await alice.waitFor('Hello alice: 0 other(s) here.');
    const bob = await lineClient(port);
    bob.socket.write('bob\n');
    await bob.waitFor('Hello bob: 1 other(s) here.');
    await alice.waitFor('* bob joined');
    const carol = await lineClient(port);
    carol.socket.write('carol\n');
    await carol.waitFor('Hello carol: 2 other(s) here.');

    alice.socket.write('hello, everyone\n');
    await bob.waitFor('alice: hello, everyone\n');
    await carol.waitFor('alice: hello, everyone\n');
    assert.ok(!alice.text().includes('alice: hello'), 'the sender does not get its own line back');

    carol.socket.resetAndDestroy();   // vanishes: a TCP reset, no goodbye
    await alice.waitFor('* carol left');
    await bob.waitFor('* carol left');
    bob.socket.write('still here\n');
    await alice.waitFor('bob: still here');
    const dave = await lineClient(port);   // connected and silent: it never says its name
    await dave.waitFor('Your name?');

    server.child.kill('SIGINT');
    await Promise.all([alice, bob, dave].map((c) => c.waitFor('* server shutting down, bye')));
    await Promise.all([alice.ended, bob.ended, dave.ended]);
    assert.ok(!alice.text().includes('* bob left') && !bob.text().includes('* alice left'), 'a shutdown is not announced as leaving');
    assert.equal(await server.exited, 0, server.err());
    assert.match(server.out(), /chat server stopped/);
    assert.equal(server.err(), '');
  } finally {
    reap(server);
  }
});
