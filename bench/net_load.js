// The load generator of net.bench.ts, in its own process so it does not share a thread with the servers it measures.
// It speaks raw node:net: each connection sends a message, waits for all of it to come back, and sends again.
// Commands arrive over IPC: { port, size, conns, ms } -> replies { roundTrips }.
import { Buffer } from 'node:buffer';
import * as net from 'node:net';

function measure({ port, size, conns, ms }) {
  return new Promise((resolve, reject) => {
    const msg = Buffer.alloc(size, 120);
    let roundTrips = 0;
    let running = true;
    let open = 0;
    const sockets = [];
    const finish = () => { for (const s of sockets) s.destroy(); resolve({ roundTrips }); };
    for (let i = 0; i < conns; i++) {
      const s = net.connect({ port, host: '127.0.0.1', noDelay: true });
      sockets.push(s);
      let got = 0;
      s.on('connect', () => {
        if (++open === conns) { setTimeout(() => { running = false; finish(); }, ms); for (const x of sockets) x.write(msg); }
      });
      s.on('data', (d) => {
        got += d.length;
        if (got >= size) {
          got -= size;
          if (running) { roundTrips++; s.write(msg); }
        }
      });
      s.on('error', (e) => { if (running) reject(e); });
    }
  });
}

/** Open `conns` idle connections and keep them until told to release them. */
let held = [];
function hold({ port, conns }) {
  return new Promise((resolve, reject) => {
    let open = 0;
    for (let i = 0; i < conns; i++) {
      const s = net.connect({ port, host: '127.0.0.1' }, () => { if (++open === conns) resolve({ open }); });
      s.on('error', reject);
      held.push(s);
    }
  });
}

process.on('message', (cmd) => {
  if (cmd === 'exit') process.exit(0);
  if (cmd === 'release') { for (const s of held) s.destroy(); held = []; process.send({ released: true }); return; }
  const run = cmd.hold ? hold(cmd) : measure(cmd);
  run.then((r) => process.send(r), (e) => process.send({ error: String(e) }));
});
process.send('ready');
