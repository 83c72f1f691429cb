// The browser entry's Client, for Node: `new Client('ws://host:port/')` over the `ws` package's
// WebSocket (Node 20 has no global one). Everything else is the browser Client as it is.
import WebSocket from 'ws';
import { Client as BrowserClient } from './browser/client.js';
import type { ClientOptions } from './browser/options.js';

/**
 * An OSC endpoint over one WebSocket connection (one packet per binary frame): routes and
 * subscriptions as a Server's, `send`/`bundle`/`request` as an Address's, reconnecting by itself.
 * In Node it uses the `ws` package unless `options.WebSocket` says otherwise.
 */
export class Client extends BrowserClient {
  constructor(url: string, options: ClientOptions = {}) {
    super(url, { ...options, WebSocket: options.WebSocket ?? WebSocket });
  }
}

export type { ClientEvents, ClientStats } from './browser/client.js';
export type { ClientOptions, ReconnectOptions } from './browser/options.js';
export type { ClientState, CloseInfo } from './browser/socket.js';
