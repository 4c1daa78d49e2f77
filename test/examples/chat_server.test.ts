// examples/chat_server.ts with real clients: broadcast, a client that vanishes, Ctrl-C closing every client.
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

    server.child.kill('SIGINT');
    await Promise.all([alice.waitFor('* server shutting down, bye'), bob.waitFor('* server shutting down, bye')]);
    await Promise.all([alice.ended, bob.ended]);
    assert.equal(await server.exited, 0, server.err());
    assert.match(server.out(), /chat server stopped/);
    assert.equal(server.err(), '');
  } finally {
    reap(server);
  }
});
