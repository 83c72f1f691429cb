// The browser entry's Client, for Node: `new Client('ws://host:port/')` over the `ws` package's
// WebSocket (Node 20 has no global one). Everything else is the browser Client as it is.
import WebSocket from 'ws';
import { Client as BrowserClient } from './browser/client.js';
import type { ClientOptions } from './browser/options.js';
import type { WebSocketConstructor } from './browser/websocket.js';
import { DEFAULT_MAX_PACKET_SIZE } from './codec/decode.js';
import { HANDSHAKE_TIMEOUT_MS } from './transport/ws.js';
import { CLOSE_GRACE_MS, maxPieces } from './transport/ws-link.js';

/**
 * `ws`'s WebSocket with the limits a browser cannot set, so that a hostile server is bounded as a
 * hostile client of a Server is. `ws`'s defaults are a browser's: a message of up to 100 MiB is
 * read whole before the client sees it (and then refuses it as over `maxPacketSize`), compression
 * is offered, so a few KiB can inflate to those 100 MiB, and a server that accepts the connection
 * and never answers the upgrade keeps the client connecting forever, never retrying. Here a
 * message over `maxPacketSize` closes the connection (1009, seen in `'close'`; the client
 * reconnects), compression is off (as on aiolo's Server), a message may come in at most
 * `maxPieces` reads or fragments, an upgrade unanswered for 10 s is a failed attempt, retried
 * with the backoff, and `close()` waits a second, not `ws`'s 30, for a server that does not
 * answer the close frame.
 */
function boundedWebSocket(maxPacketSize: number): WebSocketConstructor {
  const limits = {
    maxPayload: maxPacketSize,
    perMessageDeflate: false,
    maxBufferedChunks: maxPieces(maxPacketSize),
    maxFragments: maxPieces(maxPacketSize),
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    closeTimeout: CLOSE_GRACE_MS,
  };
  return class BoundedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, limits);
    }
  };
}

/**
 * An OSC endpoint over one WebSocket connection (one packet per binary frame): routes and
 * subscriptions as a Server's, `send`/`bundle`/`request` as an Address's, reconnecting by itself.
 * In Node it uses the `ws` package, bounded by `maxPacketSize`, unless `options.WebSocket` says
 * otherwise.
 */
export class Client extends BrowserClient {
  constructor(url: string, options: ClientOptions = {}) {
    super(url, {
      ...options,
      WebSocket: options.WebSocket ?? boundedWebSocket(options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE),
    });
  }
}

export type { ClientEvents, ClientStats } from './browser/client.js';
export type { ClientOptions, ReconnectOptions } from './browser/options.js';
export type { ClientState, CloseInfo } from './browser/socket.js';
