// Real-browser tests: Debian's chromium driven by playwright-core (which never downloads a browser),
// pages served from a loopback http.Server on port 0, and browser bundles of this repo's TypeScript
// built in memory by esbuild. Locally a missing chromium skips its tests with a message naming the
// Debian package; under CI=true it fails them (as needPeer does for liblo).
//
//   const js = await bundle({ contents: "import * as codec from './src/codec/index.ts'; globalThis.codec = codec;",
//                             resolveDir: fileURLToPath(new URL('../..', import.meta.url)) });
//   await withChromium(async (chromium) => {
//     await withPage({ chromium, scripts: { 'codec.js': js } }, async (page) => {
//       const n = await page.evaluate((path) => globalThis.codec.encode(new globalThis.codec.Message(path)).length, '/a');
//     });
//   });
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import * as esbuild from 'esbuild';
import { type BrowserContext, type Page, chromium as playwright } from 'playwright-core';
import { within } from './async.js';
import { type Peer, skipOrFail } from './peers.js';

const CHROMIUM_PATH = '/usr/bin/chromium';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Debian's chromium, the only browser these tests use. */
export const CHROMIUM: Peer = {
  name: 'chromium',
  command: CHROMIUM_PATH,
  debianPackages: 'chromium',
  available: executable(CHROMIUM_PATH),
};

/**
 * Call first in a test that needs a browser. Returns false (having skipped the test) when chromium
 * is missing locally; under CI=true a missing chromium is a failure.
 */
export function needBrowser(t: TestContext): boolean {
  if (CHROMIUM.available) return true;
  return skipOrFail(
    t,
    `${CHROMIUM.name} is not installed: apt-get install ${CHROMIUM.debianPackages}`,
    'browser tests',
  );
}

// ---- bundles

/** A file to bundle, or source text (TypeScript) whose relative imports resolve from `resolveDir`. */
export type BundleEntry = string | { readonly contents: string; readonly resolveDir: string };

/** Refuses every `node:` import (and bare Node built-ins), naming the file that made it. */
const noNode: esbuild.Plugin = {
  name: 'no-node-builtins',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `${args.importer || 'the entry'} imports ${args.path}: a browser bundle may not use Node` }],
    }));
  },
};

/**
 * Builds a browser bundle (ESM, es2022) in memory and returns its JavaScript. Fails on any import of
 * a Node built-in, on anything left external, and on every esbuild error or warning.
 */
export async function bundle(entry: BundleEntry): Promise<string> {
  const input: esbuild.BuildOptions =
    typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, resolveDir: entry.resolveDir, loader: 'ts', sourcefile: 'entry.ts' } };
  const result = await esbuild.build({
    ...input,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: 'out',
    metafile: true,
    logLevel: 'silent',
    plugins: [noNode],
  });
  if (result.warnings.length > 0) {
    const text = await esbuild.formatMessages(result.warnings, { kind: 'warning' });
    throw new Error(`esbuild warnings:\n${text.join('\n')}`);
  }
  const externals = Object.values(result.metafile.outputs)
    .flatMap((o) => o.imports)
    .filter((i) => i.external);
  if (externals.length > 0) {
    throw new Error(`the bundle imports ${externals.map((i) => i.path).join(', ')}: a browser bundle must be whole`);
  }
  const js = result.outputFiles.filter((f) => f.path.endsWith('.js'));
  if (js.length !== 1) throw new Error(`esbuild produced ${js.length} JavaScript files, expected 1`);
  return (js[0] as esbuild.OutputFile).text;
}

// ---- the browser

/** One chromium, with its own temporary profile: launch once per test file. */
export interface Chromium extends AsyncDisposable {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

const LAUNCH_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 10_000;

const ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  // The network here is closed: without these, chromium waits on refused connections.
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// tsx compiles with esbuild's keepNames, so functions given to page.evaluate may call esbuild's
// `__name` helper, which exists only in the module they came from: give the page an equivalent.
const NAME_SHIM = `globalThis.__name = (target, value) =>
  Object.defineProperty(target, 'name', { value, configurable: true });`;

/** Launches Debian's chromium headless with a fresh profile directory (removed by `close`). */
export async function launchChromium(): Promise<Chromium> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'aiolo-chromium-'));
  let context: BrowserContext;
  try {
    // launchPersistentContext is how playwright takes --user-data-dir.
    context = await playwright.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ARGS,
      timeout: LAUNCH_TIMEOUT_MS,
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }
  await context.addInitScript({ content: NAME_SHIM });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      try {
        await within(CLOSE_TIMEOUT_MS, 'chromium to close', context.close());
      } finally {
        await rm(userDataDir, { recursive: true, force: true });
      }
    })();
    return closed;
  };
  return { context, close, [Symbol.asyncDispose]: close };
}

/** Runs `fn` with a chromium that is closed (and its profile removed) afterwards, whatever happens. */
export async function withChromium<T>(fn: (chromium: Chromium) => Promise<T>): Promise<T> {
  const chromium = await launchChromium();
  try {
    return await fn(chromium);
  } finally {
    await chromium.close();
  }
}

// ---- pages

export interface PageOptions {
  /** The browser to open the page in; without it, openPage launches one and closes it with the page. */
  readonly chromium?: Chromium;
  /** Scripts by file name (`'codec.js'`), served at `/<name>` and loaded as modules, in this order. */
  readonly scripts?: Readonly<Record<string, string>>;
  /** Extra markup for the page's body. */
  readonly body?: string;
  /**
   * Called once the server listens, before the page loads: attach more to it (a WebSocket server on
   * its 'upgrade' event, say). What it returns is called when the page closes, before the server.
   */
  readonly setup?: (server: Server) => undefined | (() => unknown) | Promise<undefined | (() => unknown)>;
  /** Handles a request before the built-in routes; returns true if it answered. */
  readonly handle?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Bound on each `evaluate` and on loading the page, in ms (default 10,000). */
  readonly timeout?: number;
}

export interface OpenPage extends AsyncDisposable {
  readonly page: Page;
  readonly server: Server;
  /** `http://127.0.0.1:<port>` — the server's origin (WebSockets: `ws://127.0.0.1:<port>`). */
  readonly origin: string;
  /** Console errors and uncaught exceptions of the page so far, as text. */
  readonly errors: readonly string[];
  /** Throws if the page has logged a console error or thrown an uncaught exception. */
  assertNoErrors(): void;
  /**
   * `page.evaluate`, bounded in time, then failing if the page reported an error meanwhile. `fn` runs
   * in the page: it may use only its argument and the page's globals, never variables of the test.
   */
  evaluate<R, A = undefined>(fn: (arg: A) => R | Promise<R>, arg?: A): Promise<R>;
  close(): Promise<void>;
}

function html(scripts: readonly string[], body: string): string {
  const tags = scripts.map((name) => `<script type="module" src="/${encodeURIComponent(name)}"></script>`).join('\n');
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>aiolo test</title>\n${tags}\n</head><body>${body}</body></html>\n`;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Serves a page (and its scripts) on 127.0.0.1, opens it in chromium and waits for it to load (module
 * scripts have run by then). Collects console errors and page errors. Close it with `close()` (or
 * `await using`); prefer {@link withPage}, which also fails on the page's errors.
 */
export async function openPage(options: PageOptions = {}): Promise<OpenPage> {
  const timeout = options.timeout ?? 10_000;
  const scripts = options.scripts ?? {};
  const page_ = html(Object.keys(scripts), options.body ?? '');
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    if (options.handle?.(req, res)) return;
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const script = path.startsWith('/') ? scripts[path.slice(1)] : undefined;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page_);
    } else if (script !== undefined) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(script);
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`no ${path}\n`);
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const cleanups: (() => unknown)[] = [];
  let chromium = options.chromium;
  let ownBrowser = false;
  let page: Page | undefined;
  const errors: string[] = [];

  const close = async (): Promise<void> => {
    const failures: unknown[] = [];
    const step = async (what: () => unknown): Promise<void> => {
      try {
        await what();
      } catch (err) {
        failures.push(err);
      }
    };
    if (page !== undefined) {
      const p = page;
      await step(() => within(CLOSE_TIMEOUT_MS, 'the page to close', p.close()));
    }
    for (const cleanup of cleanups.reverse()) await step(cleanup);
    await step(async () => {
      if (!server.listening) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await within(CLOSE_TIMEOUT_MS, 'the http server to close', closed);
    });
    if (ownBrowser && chromium !== undefined) {
      const c = chromium;
      await step(() => c.close());
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, 'closing the page failed');
  };

  try {
    const origin = `http://127.0.0.1:${await listen(server)}`;
    const cleanup = await options.setup?.(server);
    if (cleanup !== undefined) cleanups.push(cleanup);
    if (chromium === undefined) {
      chromium = await launchChromium();
      ownBrowser = true;
    }
    const p = await chromium.context.newPage();
    page = p;
    p.setDefaultTimeout(timeout);
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
    });
    p.on('pageerror', (err) => errors.push(`uncaught: ${err.stack ?? err.message}`));
    p.on('crash', () => errors.push('the page crashed'));
    await p.goto(`${origin}/`, { waitUntil: 'load', timeout });

    const assertNoErrors = (): void => {
      if (errors.length > 0) throw new Error(`the page reported ${errors.length} error(s):\n${errors.join('\n')}`);
    };
    const evaluate = async <R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R> => {
      const result = await within(
        timeout,
        'page.evaluate',
        p.evaluate(fn as unknown as (arg: unknown) => R | Promise<R>, arg as unknown),
      );
      assertNoErrors();
      return result as R;
    };
    return { page: p, server, origin, errors, assertNoErrors, evaluate, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}

/**
 * Opens a page, runs `fn` with it, and closes everything in `finally`. Fails if the page logged a
 * console error or threw an uncaught exception, even when `fn` itself passed.
 */
export async function withPage<T>(options: PageOptions, fn: (page: OpenPage) => Promise<T>): Promise<T> {
  const page = await openPage(options);
  try {
    const result = await fn(page);
    page.assertNoErrors();
    return result;
  } finally {
    await page.close();
  }
}
