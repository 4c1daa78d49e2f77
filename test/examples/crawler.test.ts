// examples/crawler.ts against a local HTTP server (no internet): the concurrency limit, per-request
// timeouts that abort the request, and cancel-on-first-error aborting every request in flight.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { run } from 'tulip';
import { crawl } from '../../examples/crawler.js';
import { reap, runExample } from './helpers.js';

type Handler = (req: IncomingMessage, res: ServerResponse, site: Site) => void;

/** A test site that records how many requests are in flight and which ones were aborted. */
class Site {
  readonly server: Server;
  inFlight = 0;
  maxInFlight = 0;
  readonly arrived: string[] = [];
  readonly aborted: string[] = [];
  #waiters: Array<() => void> = [];

  constructor(handler: Handler) {
    this.server = createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      this.arrived.push(req.url!);
      res.on('close', () => {
        this.inFlight--;
        if (!res.writableFinished) this.aborted.push(req.url!);
        this.#wake();
      });
      this.#wake();
      handler(req, res, this);
    });
  }
  #wake(): void { for (const w of this.#waiters.splice(0)) w(); }
  /** Resolves once `pred()` holds (checked after every request event); rejects after `ms`. */
  until(pred: () => boolean, ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`site: condition not met within ${ms} ms (aborted: ${this.aborted.join(', ')})`)), ms);
      const check = (): void => {
        if (pred()) { clearTimeout(timer); resolve(); } else this.#waiters.push(check);
      };
      check();
    });
  }
  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/`;
  }
  close(): void { this.server.closeAllConnections(); this.server.close(); }
}

function html(res: ServerResponse, links: string[], delay = 0): void {
  res.setHeader('content-type', 'text/html');
  setTimeout(() => res.end(links.map((l) => `<a href="${l}">x</a>`).join('')), delay);
}

void test('crawler: every page once, never more than --concurrency requests at a time', async () => {
  const site = new Site((req, res) => {
    const n = req.url === '/' ? 0 : Number(req.url!.slice(2));
    html(res, req.url === '/' ? Array.from({ length: 12 }, (_, i) => `/p${i + 1}`) : ['/', `/p${(n % 12) + 1}`, 'http://elsewhere.invalid/'], 30);
  });
  const url = await site.listen();
  const crawler = runExample('crawler.ts', [url, '--concurrency', '3', '--timeout', '10000']);
  try {
    assert.equal(await crawler.exited, 0, crawler.out() + crawler.err());
    assert.match(crawler.out(), /crawled 13 pages/);
    assert.equal(site.arrived.length, 13, 'each page fetched once; the other origin never');
    assert.equal(new Set(site.arrived).size, 13);
    assert.ok(site.maxInFlight <= 3, `${site.maxInFlight} requests at once`);
    assert.equal(site.maxInFlight, 3, 'twelve links from the home page keep three workers busy');
  } finally {
    reap(crawler);
    site.close();
  }
});

// The next two run crawl() in this process, so that a request closed while the process lives on was
// closed by the crawler itself (not by a process exiting).
const quiet = (): (() => void) => { const log = console.log; console.log = () => {}; return () => { console.log = log; }; };

void test('crawler: a page slower than the timeout is skipped and its request aborted; the crawl goes on', async () => {
  // /slow never answers, so the timeout only has to be long enough for the other pages to load under load.
  const site = new Site((req, res) => {
    if (req.url === '/slow') return;   // never answers
    html(res, req.url === '/' ? ['/slow', '/a', '/b'] : ['/']);
  });
  const url = await site.listen();
  const restore = quiet();
  try {
    const outcomes = await run(() => crawl(url, { concurrency: 2, timeoutMs: 3_000, maxPages: 100 }), { handleSignals: false });
    restore();
    assert.equal(outcomes.get(`${url}slow`), 'timed out');
    assert.equal(outcomes.get(`${url}a`), 200);
    assert.equal(outcomes.size, 4);
    await site.until(() => site.aborted.includes('/slow'));
  } finally {
    restore();
    site.close();
  }
});

void test('crawler: the first server error fails the crawl and aborts every request in flight', async () => {
  const site = new Site((req, res, s) => {
    if (req.url === '/') { html(res, ['/hang1', '/hang2', '/boom']); return; }
    if (req.url === '/boom') {
      // Fail only once both other requests are in flight, so that there is something to cancel.
      void s.until(() => s.arrived.includes('/hang1') && s.arrived.includes('/hang2')).then(() => { res.statusCode = 500; res.end('no'); });
    }
    // /hang1 and /hang2 never answer
  });
  const url = await site.listen();
  const restore = quiet();
  try {
    await assert.rejects(run(() => crawl(url, { concurrency: 3, timeoutMs: 60_000, maxPages: 100 }), { handleSignals: false }), /\/boom: HTTP 500/);
    restore();
    await site.until(() => site.aborted.includes('/hang1') && site.aborted.includes('/hang2'));
    assert.equal(site.inFlight, 0);
  } finally {
    restore();
    site.close();
  }
});
