// The two ends of interop.bench.ts's bulk copy, in their own process so that they do not share a thread with
// the copy they measure: a source that sends `total` bytes to each connection and then ends it, and a sink that
// counts what a connection sends until EOF and answers with the count. Prints {"source": port, "sink": port}.
import { Buffer } from 'node:buffer';
import * as net from 'node:net';

const total = Number(process.argv[2]);
const chunk = Buffer.alloc(256 * 1024, 7);

const source = net.createServer((s) => {
  let left = total;
  const more = () => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { s.once('drain', more); return; }
    }
    s.end();
  };
  s.on('error', () => {});
  more();
});

const sink = net.createServer({ allowHalfOpen: true }, (s) => {
  let got = 0;
  s.on('data', (d) => { got += d.length; });
  s.on('end', () => { s.end(`${got}\n`); });
  s.on('error', () => {});
});

source.listen(0, '127.0.0.1', () => sink.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ source: source.address().port, sink: sink.address().port })}\n`);
}));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
