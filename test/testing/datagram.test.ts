/** Datagrams on the virtual network: loss, reordering, partitions, binding. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../../src/index.js';
import { runVirtual } from '../../src/testing/index.js';
import { dec, loop } from './helpers.js';

void test('datagrams: delivery with addresses, loss drawn from the seed, reordering by jitter', async () => {
  const program = (seed: number): Promise<number[]> => runVirtual(function* () {
    const net = loop().network;
    net.addHost('a');
    net.addHost('b');
    net.setLink('a', 'b', { latency: 10, jitter: 20, loss: 0.25 });
    const got: number[] = [];
    let from: unknown;
    yield* net.onHost('b', () => loop().createDatagramEndpoint(() => ({
      datagramReceived(d: Uint8Array, addr: [string, number]) { got.push(Number(dec.decode(d))); from = addr; },
    }), { localAddr: ['b', 53] }));
    const [t] = yield* net.onHost('a', () => loop().createDatagramEndpoint(() => ({ datagramReceived() {} }), { remoteAddr: ['b', 53] }));
    assert.throws(() => t.sendto('x', ['10.0.0.2', 54]));
    for (let i = 0; i < 200; i++) t.sendto(String(i));
    yield* sleep(100);
    assert.equal((from as [string, number])[0], '10.0.0.1');
    assert.ok(got.length > 120 && got.length < 180, `received ${got.length}`);
    assert.ok(got.some((x, i) => i > 0 && x < got[i - 1]!), 'jitter reorders datagrams');
    let code = '';
    try { yield* net.onHost('b', () => loop().createDatagramEndpoint(() => ({ datagramReceived() {} }), { localAddr: ['b', 53] })); } catch (e) { code = (e as { code: string }).code; }
    assert.equal(code, 'EADDRINUSE');
    t.close();
    return got;
  }, { seed });
  assert.deepEqual(await program(9), await program(9));
});

void test('datagrams wait out a partition', async () => {
  await runVirtual(function* () {
    const got: string[] = [];
    const [server] = yield* loop().createDatagramEndpoint(() => ({ datagramReceived(d: Uint8Array) { got.push(dec.decode(d)); } }), { localAddr: ['127.0.0.1', 0] });
    const addr = server.getExtraInfo('sockname') as [string, number];
    const [client] = yield* loop().createDatagramEndpoint(() => ({ datagramReceived() {} }), {});
    loop().network.partition('localhost', 'localhost');
    client.sendto('a', addr);
    client.sendto('b', addr);
    yield* sleep(100);
    assert.deepEqual(got, []);
    loop().network.heal('localhost', 'localhost');
    yield* sleep(1);
    assert.deepEqual(got, ['a', 'b']);
  });
});

void test('datagram endpoints: bad input, binding another host, close calls connectionLost', async () => {
  await runVirtual(function* () {
    const net = loop().network;
    net.addHost('other');
    const events: string[] = [];
    const [t] = yield* loop().createDatagramEndpoint(() => ({ datagramReceived() {}, connectionLost: () => events.push('lost') }), {});
    assert.throws(() => t.sendto('x'), TypeError);
    assert.equal(t.getWriteBufferSize(), 0);
    assert.deepEqual((t.getExtraInfo('sockname') as [string, number])[0], '127.0.0.1');
    assert.equal(t.getExtraInfo('peername'), undefined);
    t.close();
    assert.equal(t.isClosing(), true);
    yield* sleep(0);
    assert.deepEqual(events, ['lost']);
    let code = '';
    try { yield* loop().createDatagramEndpoint(() => ({ datagramReceived() {} }), { localAddr: ['other', 53] }); } catch (e) { code = (e as { code: string }).code; }
    assert.equal(code, 'EADDRNOTAVAIL');
  });
});
