// The monitor's web side: one HTTP server that serves the page (index.html, monitor.js,
// monitor.css, all from aiolo itself: the page works offline) and a WebSocket at /ws over which
// the page gets its updates and sends its filter and the addresses it plots.
import { createServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { MAX_CLIENTS } from './aggregate.js';
import type { PageAssets } from './assets.js';
import type { Request } from './protocol.js';

/** A page's WebSocket that has not read this much is skipped (its next update carries every row). */
export const MAX_PAGE_BACKLOG = 4 * 1024 * 1024;
/** Largest message a page may send (a filter, a list of addresses). */
const MAX_REQUEST = 64 * 1024;

export interface PageConnection {
  /** Sends an update unless the page is more than MAX_PAGE_BACKLOG behind; returns whether it did. */
  send(text: string): boolean;
  close(): void;
}

export interface PageHost {
  /** A page connected: returns what to call with its requests and when it goes. */
  connected(conn: PageConnection): { request(r: Request): void; closed(): void };
  /** Counters as JSON, for `GET /stats.json`. */
  stats(): unknown;
}

export interface Http {
  readonly server: HttpServer;
  /** `http://HOST:PORT/` */
  readonly url: string;
  close(): Promise<void>;
}

function parseRequest(data: unknown): Request | undefined {
  try {
    const r = JSON.parse(String(data)) as unknown;
    if (typeof r !== 'object' || r === null) return undefined;
    const o = r as { type?: unknown; pattern?: unknown; paths?: unknown };
    if (o.type === 'filter' && typeof o.pattern === 'string') return { type: 'filter', pattern: o.pattern };
    if (o.type === 'watch' && Array.isArray(o.paths) && o.paths.every((p) => typeof p === 'string'))
      return { type: 'watch', paths: o.paths as string[] };
  } catch {
    // not JSON: ignored
  }
  return undefined;
}

/** Whether a WebSocket upgrade comes from this monitor's own page (or from no page: a tool). */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return origin === `http://${req.headers.host ?? ''}`;
}

function bracket(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function serveHttp(host: string, port: number, assets: PageAssets, page: PageHost): Promise<Http> {
  const files: Record<string, [string, Uint8Array]> = {
    '/': ['text/html; charset=utf-8', assets.html],
    '/index.html': ['text/html; charset=utf-8', assets.html],
    '/monitor.js': ['text/javascript; charset=utf-8', assets.js],
    '/monitor.css': ['text/css; charset=utf-8', assets.css],
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = files[path];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (file !== undefined) {
      res.writeHead(200, { 'content-type': file[0], 'cache-control': 'no-cache' }).end(file[1]);
    } else if (path === '/stats.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(page.stats()));
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_REQUEST, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (path !== '/ws') return refuse('404 Not Found');
    if (!sameOrigin(req)) return refuse('403 Forbidden');
    if (wss.clients.size >= MAX_CLIENTS) return refuse('503 Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const conn: PageConnection = {
        send: (text) => {
          if (ws.readyState !== ws.OPEN || ws.bufferedAmount > MAX_PAGE_BACKLOG) return false;
          ws.send(text);
          return true;
        },
        close: () => ws.terminate(),
      };
      const handlers = page.connected(conn);
      ws.on('message', (data, binary) => {
        if (binary) return;
        const r = parseRequest(data);
        if (r !== undefined) handlers.request(r);
      });
      ws.on('error', () => ws.terminate());
      ws.once('close', () => handlers.closed());
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${bracket(address.address)}:${address.port}/`;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
    return closing;
  };
  return { server, url, close };
}
