/**
 * getExtraInfo is typed per name and Server.addresses() per kind of server: the compile-time checks
 * here fail `npm run typecheck` if a type goes wrong; the run-time checks show the values match them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import {
  createSubprocessExec, openConnection, openUnixConnection, startServer, startUnixServer, type ExtraInfo, type Server, type SockAddr,
  type StreamWriter, type Transport,
} from '../../src/index.js';
import { go, tempDir, testCert } from '../net_helpers.js';

/** True when A and B are the same type (the usual exact-equality trick). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function typeIs<_T extends true>(): void { /* compile-time only */ }

declare const _w: StreamWriter;
declare const _t: Transport;
typeIs<Equal<ReturnType<typeof _w.getExtraInfo<'peername'>>, SockAddr | string | undefined>>();
typeIs<Equal<ReturnType<typeof _t.getExtraInfo<'sockname'>>, SockAddr | string | undefined>>();
typeIs<Equal<ExtraInfo['sslObject'], TLSSocket>>();
typeIs<Equal<ExtraInfo['peercert'], PeerCertificate | DetailedPeerCertificate>>();
typeIs<Equal<ExtraInfo['subprocess'], ChildProcess>>();
typeIs<Equal<ExtraInfo['readableStream'], ReadableStream<Uint8Array | string>>>();
typeIs<Equal<Awaited<ReturnType<typeof _w.getExtraInfo>>, unknown>>();   // any other name: unknown
typeIs<Equal<ReturnType<Server<SockAddr>['addresses']>, SockAddr[]>>();
typeIs<Equal<ReturnType<Server['addresses']>, Array<SockAddr | string>>>();

void test('peername, sockname and socket of a TCP connection have the types they are declared with', async () => {
  await go(function* () {
    const server = yield* startServer(function* (_r, sw) { sw.close(); }, '127.0.0.1', 0);
    const [host, port] = server.addresses()[0]!;   // SockAddr: no cast
    assert.equal(host, '127.0.0.1');
    const [, writer] = yield* openConnection(host, port);
    const peer = writer.getExtraInfo('peername');
    assert.ok(Array.isArray(peer));
    assert.deepEqual(peer, ['127.0.0.1', port]);
    const local = writer.getExtraInfo('sockname');
    assert.ok(Array.isArray(local) && typeof local[1] === 'number');
    assert.ok(writer.getExtraInfo('socket') instanceof Socket);
    assert.equal(writer.getExtraInfo('sslObject'), undefined);
    assert.equal(writer.getExtraInfo('no such name', 'fallback'), 'fallback');
    writer.close();
    server.close();
    yield* server.waitClosed();
  });
});

void test('a Unix server\'s addresses are paths; a TLS connection gives its certificate, cipher and protocol', async () => {
  await go(function* () {
    const path = join(tempDir(), 's.sock');
    const unix = yield* startUnixServer(function* (_r, sw) { sw.close(); }, path);
    const addr: string = unix.addresses()[0]!;
    assert.equal(addr, path);
    const [, uw] = yield* openUnixConnection(path);
    assert.equal(uw.getExtraInfo('peername'), path);
    uw.close();
    unix.close();
    yield* unix.waitClosed();

    const { key, cert } = testCert();
    const tls = yield* startServer(function* (_r, sw) { sw.close(); }, '127.0.0.1', 0, { ssl: { key, cert } });
    const [, port] = tls.addresses()[0]!;
    const [, tw] = yield* openConnection('127.0.0.1', port, { ssl: { ca: cert }, serverHostname: 'localhost' });
    const pc = tw.getExtraInfo('peercert');
    assert.ok(pc !== undefined && typeof pc.subject === 'object');
    assert.equal(typeof tw.getExtraInfo('cipher')?.name, 'string');
    assert.match(String(tw.getExtraInfo('sslProtocol')), /^TLSv1\.[23]$/);
    assert.equal(tw.getExtraInfo('sslObject')?.encrypted, true);
    tw.close();
    tls.close();
    yield* tls.waitClosed();

    const p = yield* createSubprocessExec('true', []);
    assert.equal(p.transport.getExtraInfo('subprocess')?.pid, p.pid);
    yield* p.wait();
  });
});
