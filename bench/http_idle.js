// The idle-connection holder of http.bench.ts, in its own process: it opens `conns` keep-alive connections,
// makes one GET /hello on each, reads the answer, and keeps them all open until told to release them.
// Commands arrive over IPC: { port, conns } -> { open }; 'release' -> { released }; 'exit'.
import * as net from 'node:net';

let held = [];
function hold({ port, conns }) {
  return new Promise((resolve, reject) => {
    let answered = 0;
    let next = 0;
    // At most 200 handshakes in flight: the accept queue never overflows (no retransmitted SYNs to wait for).
    const open = () => {
      if (next >= conns) return;
      next++;
      const s = net.connect({ port, host: '127.0.0.1' }, () => s.write('GET /hello HTTP/1.1\r\nHost: bench\r\n\r\n'));
      let got = '';
      s.on('data', (d) => {
        if (got === null) return;
        got += d.toString('latin1');
        if (!got.endsWith('hello')) return;
        got = null;
        if (++answered === conns) resolve({ open: answered });
        open();
      });
      s.on('error', reject);
      held.push(s);
    };
    for (let i = 0; i < 200; i++) open();
  });
}

process.on('message', (cmd) => {
  if (cmd === 'exit') process.exit(0);
  if (cmd === 'release') { for (const s of held) s.destroy(); held = []; process.send({ released: true }); return; }
  hold(cmd).then((r) => process.send(r), (e) => process.send({ error: String(e) }));
});
process.send({ ready: true });
