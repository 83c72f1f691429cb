// The part of the WHATWG WebSocket interface a Client uses, declared here so that the browser
// entry's types need neither the DOM library nor @types/node: the browser's `WebSocket`, and the
// `ws` package's in Node, both fit it.

/** What a Client needs of a WebSocket: a browser's, `ws`'s, or any class with the WHATWG interface. */
export interface WebSocketLike {
  /** Set to `'arraybuffer'` by the client. */
  binaryType: string;
  /** Bytes handed to `send()` and not yet written to the network. */
  readonly bufferedAmount: number;
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  // (listeners typed to take `never`: the client assigns its own; `never` accepts the DOM's and ws's types)
  /** Called when the connection opens. */
  onopen: ((event: never) => unknown) | null;
  /** Called with each message. */
  onmessage: ((event: never) => unknown) | null;
  /** Called when the connection closes. */
  onclose: ((event: never) => unknown) | null;
  /** Called when the connection fails. */
  onerror: ((event: never) => unknown) | null;
  // (typed `never` so that any WHATWG-like send fits: the DOM's takes BufferSource, ws's a Buffer-like)
  /** Sends one message. */
  send(data: never): void;
  /** Closes the connection. */
  close(code?: number, reason?: string): void;
}

/** A WebSocket class: `new WebSocket(url, protocols)`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** What the client reads of a message event. */
export interface MessageEventLike {
  readonly data: unknown;
}

/** What the client reads of a close event. */
export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

export const OPEN = 1;
export const CLOSED = 3;
