// A small OSCQuery server for the client's tests, written from the spec with plain node:http and
// `ws` (not with aiolo's server, nor its codec): GET serves the node at the URL's path from a JSON
// tree, `/?HOST_INFO` the host info; a WebSocket on the same port answers LISTEN by streaming
// hand-encoded OSC and records every command it receives. Some paths misbehave on purpose.
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// ---- OSC, by hand ----------------------------------------------------------------------------

function oscString(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const padded = Buffer.alloc((bytes.length + 4) & ~3);
  bytes.copy(padded);
  return padded;
}

/** An OSC message with float32 arguments. */
export function floatMessage(path: string, ...values: number[]): Buffer {
  const args = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => {
    args.writeFloatBE(v, 4 * i);
  });
  return Buffer.concat([oscString(path), oscString(`,${'f'.repeat(values.length)}`), args]);
}

/** An OSC message with one int32 argument. */
export function intMessage(path: string, value: number): Buffer {
  const arg = Buffer.alloc(4);
  arg.writeInt32BE(value);
  return Buffer.concat([oscString(path), oscString(',i'), arg]);
}

/** A bundle of messages stamped (seconds, fraction). */
export function bundle(seconds: number, fraction: number, ...elements: Buffer[]): Buffer {
  const tt = Buffer.alloc(8);
  tt.writeUInt32BE(seconds, 0);
  tt.writeUInt32BE(fraction, 4);
  const parts = [oscString('#bundle'), tt];
  for (const e of elements) {
    const size = Buffer.alloc(4);
    size.writeInt32BE(e.length);
    parts.push(size, e);
  }
  return Buffer.concat(parts);
}

// ---- the server --------------------------------------------------------------------------------

export interface FixtureOptions {
  tree: Json;
  /** `null`: `?HOST_INFO` answers 404. A function: computed per request (it may need the port). */
  hostInfo?: ((port: number) => Json) | null;
  /** No WebSocket: upgrade requests get a plain 404. */
  ws?: boolean;
  /** What to stream for a LISTENed path (default: nothing). */
  onListen?: (path: string, socket: WebSocket) => void;
}

export class OscQueryFixture extends EventEmitter {
  tree: Json;
  readonly options: FixtureOptions;
  readonly commands: { COMMAND: string; DATA: unknown }[] = [];
  readonly sockets = new Set<WebSocket>();
  readonly requests: string[] = [];
  #http: Server;
  #wss: WebSocketServer | undefined;
  port = 0;

  constructor(options: FixtureOptions) {
    super();
    this.options = options;
    this.tree = options.tree;
    this.#http = createServer((req, res) => this.#serve(req, res));
    if (options.ws !== false) {
      this.#wss = new WebSocketServer({ server: this.#http });
      this.#wss.on('connection', (socket) => {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {});
        socket.on('message', (data, binary) => {
          if (binary) return;
          let cmd: { COMMAND: string; DATA: unknown };
          try {
            cmd = JSON.parse(String(data));
          } catch {
            return;
          }
          this.commands.push(cmd);
          this.emit('command', cmd);
          if (cmd.COMMAND === 'LISTEN' && typeof cmd.DATA === 'string') this.options.onListen?.(cmd.DATA, socket);
        });
        this.emit('connection', socket);
      });
    }
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.#http.listen(0, '127.0.0.1');
    await once(this.#http, 'listening');
    this.port = (this.#http.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    this.#wss?.close();
    this.#http.closeAllConnections();
    await new Promise((resolve) => this.#http.close(resolve));
  }

  /** Sends a text frame to every WebSocket client. */
  broadcast(text: string): void {
    for (const s of this.sockets) s.send(text);
  }

  /** The node at an OSC path in the tree, or undefined. */
  node(path: string): Json | undefined {
    let node: Json | undefined = this.tree;
    for (const part of path.split('/').filter((p) => p !== '')) {
      const contents: Json | undefined =
        node !== null && typeof node === 'object' && !Array.isArray(node) ? node.CONTENTS : undefined;
      if (contents === null || typeof contents !== 'object' || Array.isArray(contents) || contents === undefined) {
        return undefined;
      }
      node = contents[part];
      if (node === undefined) return undefined;
    }
    return node;
  }

  #json(res: ServerResponse, body: Json, status = 200): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  #serve(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${url.pathname}${url.search}`);
    if (url.search === '?HOST_INFO') {
      const info = this.options.hostInfo;
      if (info === null) {
        res.writeHead(404).end();
        return;
      }
      this.#json(res, info?.(this.port) ?? { NAME: 'fixture', OSC_PORT: 9000, OSC_TRANSPORT: 'UDP' });
      return;
    }
    switch (url.pathname) {
      case '/bad-json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"FULL_PATH": "/", "CONTENTS": {');
        return;
      case '/big': // no Content-Length: the client must count
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"DESCRIPTION": "');
        for (let i = 0; i < 40; i++) res.write('x'.repeat(64 * 1024));
        res.end('"}');
        return;
      case '/big-declared':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 << 20) });
        res.write('{"DESCRIPTION": "');
        return; // and nothing more: the client refuses by the header
      case '/deep-value': // 100000 nested arrays: a stack overflow for anything recursive
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(`{"TYPE": "f", "VALUE": ${'['.repeat(100000)}${']'.repeat(100000)}}`);
        return;
      case '/slow':
        return; // never answers
      case '/teapot':
        res.writeHead(418).end('no');
        return;
    }
    const node = this.node(decodeURIComponent(url.pathname));
    if (node === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    this.#json(res, node);
  }
}

export async function fixture(options: FixtureOptions): Promise<OscQueryFixture> {
  return new OscQueryFixture(options).start();
}
