// Compile-time tests of the browser entry's Client (never executed): routes typed from their
// typespec as a Server's, sends checked against them, requests typed by their reply, events typed.
import WebSocket from 'ws';
import {
  ANY_PATH,
  Client as BrowserClient,
  type ClientState,
  type ClientStats,
  type Incoming,
  type ListenerDisposer,
  type OscArg,
  type OscDecodeError,
  type Received,
  type Route,
  type Sender,
  type Subscription,
  TimeTag,
} from '../../src/browser/index.js';
import { Client } from '../../src/client-node.js';
import { type Equal, expect } from './expect.js';

async function check(): Promise<void> {
  // ws's WebSocket fits the option as it is
  const osc = new BrowserClient('ws://localhost:8080/', { WebSocket });
  const node = new Client('osc.ws://localhost:8080/');
  expect<Equal<typeof node extends BrowserClient ? true : false, true>>();

  const xy = osc.route('/x', 'if');
  expect<Equal<typeof xy, Route<[number, number]>>>();
  const sub = xy.sub();
  expect<Equal<typeof sub, Subscription<[number, number], Route<[number, number]>>>>();
  for await (const [i, f] of sub) {
    expect<Equal<typeof i, number>>();
    expect<Equal<typeof f, number>>();
  }
  const record = await xy.next({ timeout: 1000, incoming: true });
  expect<Equal<typeof record, Incoming<[number, number]>>>();
  expect<Equal<typeof record.source, Sender>>();
  const hs = osc.route('/h', 'hs');
  expect<Equal<typeof hs, Route<[bigint, string]>>>();
  const any = osc.route(ANY_PATH);
  expect<Equal<typeof any, Route<OscArg[]>>>();
  const pattern = osc.match('/avatar/parameters/*', 'f');
  expect<Equal<typeof pattern, Route<[number]>>>();

  await osc.send(xy, 1, 2.5);
  // @ts-expect-error 'if' takes two numbers
  await osc.send(xy, 1, 'two');
  // @ts-expect-error 'if' takes two arguments
  await osc.send(xy, 1);
  await osc.send('/free', 1, 'two', 3n);
  await osc.bundle([], TimeTag.now().add(0.1));
  await osc.delay(0.5, xy, 1, 2);

  const reply = await osc.request('/status', [], { reply: { path: '/status.reply', typespec: 'if' } as const });
  expect<Equal<typeof reply, Received<[number, number]>>>();
  const untyped = await osc.request('/status', [], { reply: '/status.reply', timeout: 1000 });
  expect<Equal<typeof untyped.args, OscArg[]>>();

  const off = osc.on('malformed', (error, packet) => {
    expect<Equal<typeof error, OscDecodeError>>();
    expect<Equal<typeof packet, Uint8Array>>();
  });
  expect<Equal<typeof off, ListenerDisposer>>();
  osc.on('close', (info) => {
    expect<Equal<typeof info.code, number>>();
  });
  // @ts-expect-error no such event
  osc.on('error', () => {});
  expect<Equal<typeof osc.state, ClientState>>();
  expect<Equal<typeof osc.stats, Readonly<ClientStats>>>();
  const opened = await osc.open({ timeout: 1000 });
  expect<Equal<typeof opened, BrowserClient>>();
  await using _closing = osc;
}

void check;
