/**
 * A web crawler: follows the links of one site with at most N requests at
 * a time, gives each request its own timeout, and stops everything at the
 * first real error.
 *
 * Shows: workers pulling from a Queue inside a taskGroup (the concurrency
 * limit), `timeout()` around each request (a slow page is skipped, the
 * crawl goes on), cancel-on-first-error (a server error fails one worker;
 * the group halts the others where they wait), and a Promise API (`fetch`)
 * stopped from a coroutine: a halted request is aborted through its scope's signal.
 *
 * Run: npx tsx examples/crawler.ts [url] [--concurrency N] [--timeout ms] [--max-pages N]
 * Without a url it serves a small demo site on 127.0.0.1 and crawls that
 * (no internet needed). Exit code 1 if the crawl failed.
 */
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fromPromise, Queue, QueueShutDown, run, taskGroup, timeout, TimeoutError, type Coro,
} from 'tulip';

export interface CrawlOptions {
  /** Requests at a time. */
  concurrency: number;
  /** ms each request (with its body) may take; a slower page is skipped. */
  timeoutMs: number;
  /** Stop discovering pages after this many. */
  maxPages: number;
}

/** What became of one page: its HTTP status, or 'timed out'. */
export type Outcome = number | 'timed out';

interface Page { status: number; links: string[] }

/**
 * GET `url` and list the links of its HTML. `fromPromise(fn)` hands `fetch` the signal of the innermost scope (here
 * the `timeout()` around the call): a halt (the timeout, a failed sibling) aborts the request and its body.
 */
function* fetchPage(url: string): Coro<Page> {
  const res = yield* fromPromise((signal) => fetch(url, { signal, redirect: 'follow' }));
  const html = res.headers.get('content-type')?.includes('html') ? yield* fromPromise(res.text()) : '';
  return { status: res.status, links: [...html.matchAll(/href="([^"#]*)/g)].map((m) => m[1]!) };
}

/** Crawl the site of `start`; returns every page visited and what became of it. */
export function* crawl(start: string, opts: CrawlOptions): Coro<Map<string, Outcome>> {
  const origin = new URL(start).origin;
  const seen = new Set<string>([start]);
  const outcomes = new Map<string, Outcome>();
  const todo = new Queue<string>();
  todo.putNowait(start);

  function* worker(): Coro<void> {
    for (;;) {
      let url: string;
      try { url = yield* todo.get(); } catch (e) { if (e instanceof QueueShutDown) return; throw e; }
      try {
        const page = yield* timeout(opts.timeoutMs, () => fetchPage(url));
        if (page.status >= 500) throw new Error(`${url}: HTTP ${page.status}`);   // fails the whole crawl
        outcomes.set(url, page.status);
        console.log(`${page.status} ${url} (${page.links.length} links)`);
        for (const link of page.links) {
          const next = new URL(link, url);
          if (next.origin !== origin || seen.has(next.href) || seen.size >= opts.maxPages) continue;
          seen.add(next.href);
          todo.putNowait(next.href);
        }
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
        outcomes.set(url, 'timed out');
        console.log(`timed out ${url}`);
      } finally {
        todo.taskDone();
      }
    }
  }

  yield* taskGroup(function* (tg) {
    for (let i = 0; i < opts.concurrency; i++) tg.createTask(worker(), { name: `worker ${i}` });
    yield* todo.join();          // every page found has been handled
    todo.shutdown(true);         // the idle workers return
  });
  return outcomes;
}

/** A demo site: a home page, ten linked pages, one slow page. */
function demoSite(): Server {
  return createServer((req, res) => {
    const n = Number(req.url?.slice(2));
    if (req.url === '/slow') { setTimeout(() => res.end('late'), 5_000).unref(); return; }
    const links = req.url === '/' ? [...Array.from({ length: 10 }, (_, i) => `/p${i + 1}`), '/slow'] : ['/', `/p${(n % 10) + 1}`];
    res.setHeader('content-type', 'text/html');
    setTimeout(() => res.end(links.map((l) => `<a href="${l}">${l}</a>`).join('\n')), 20);
  });
}

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {   // run, not imported
  const opts: CrawlOptions = { concurrency: option('--concurrency', 4), timeoutMs: option('--timeout', 2_000), maxPages: option('--max-pages', 100) };
  let start = process.argv[2]?.startsWith('http') ? process.argv[2] : undefined;
  const demo = start === undefined ? demoSite() : undefined;
  if (demo !== undefined) {
    await new Promise<void>((resolve) => demo.listen(0, '127.0.0.1', resolve));
    start = `http://127.0.0.1:${(demo.address() as { port: number }).port}/`;
  }
  try {
    const outcomes = await run(() => crawl(start!, opts));
    console.log(`crawled ${outcomes.size} pages`);
  } catch (e) {
    console.log(`crawl failed: ${(e as Error).message}`);
    process.exitCode = 1;
  } finally {
    demo?.close();
    demo?.closeAllConnections();
  }
}
