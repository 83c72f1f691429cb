// Compile-time tests of request/reply, route.next, route.on, pattern routes, raw packets and
// marked numbers (never executed).
import {
  Address,
  float,
  type HandlerDisposer,
  type Incoming,
  int64,
  Message,
  type Midi,
  type OscArg,
  type Received,
  type ReceivedPacket,
  type Route,
  Server,
  type Subscription,
} from '../../src/index.js';
import { type Equal, expect } from './expect.js';

async function check(): Promise<void> {
  const server = new Server();
  const address = new Address({ port: 57110 });

  // request: the reply is a Received record, typed by a typed reply target
  const untyped = await address.request('/status', [], { reply: '/status.reply', timeout: 1000 });
  expect<Equal<typeof untyped, Received<OscArg[]>>>();
  const typed = await address.request('/status', [1], {
    reply: { path: '/status.reply', typespec: 'iiiiiffdd' } as const,
    signal: AbortSignal.timeout(500),
  });
  expect<Equal<typeof typed.args, [number, number, number, number, number, number, number, number, number]>>();
  const replies = server.route('/done', 'sh');
  const viaRoute = await address.request('/go', [], { reply: replies, match: (r) => r.args[1] > 0n });
  expect<Equal<typeof viaRoute.args, [string, bigint]>>();
  const foo = server.route('/foo', 'hdm');
  await address.request(foo, [1n, 2.5, null as unknown as Midi]);
  // @ts-expect-error 'h' takes a bigint
  await address.request(foo, [1, 2.5, null as unknown as Midi]);
  // @ts-expect-error a match sees the typed reply
  await address.request('/go', [], { reply: replies, match: (r) => r.args[0] > 0n });

  // route.next: the args, or the Incoming record
  const next = await foo.next({ timeout: 100 });
  expect<Equal<typeof next, [bigint, number, Midi]>>();
  const nextIncoming = await foo.next({ incoming: true, signal: new AbortController().signal });
  expect<Equal<typeof nextIncoming, Incoming<[bigint, number, Midi]>>>();

  // route.on: typed handler, a disposer
  const off = foo.on(
    ([h, d], m) => {
      expect<Equal<[typeof h, typeof d], [bigint, number]>>();
      expect<Equal<typeof m, Incoming<[bigint, number, Midi]>>>();
    },
    { overflow: 'pause', onError: (_e, m) => expect<Equal<typeof m, Incoming<[bigint, number, Midi]>>>() },
  );
  expect<Equal<typeof off, HandlerDisposer>>();
  off();
  {
    using _scoped = foo.on(async () => {});
  }
  // @ts-expect-error incoming is not an option of on(): the handler gets both
  foo.on(() => {}, { incoming: true });

  // pattern routes are routes, typed by their typespec
  const params = server.match('/avatar/parameters/*', 'f');
  expect<Equal<typeof params, Route<[number]>>>();
  for await (const m of params.sub({ incoming: true })) {
    expect<Equal<typeof m.path, string>>();
    expect<Equal<typeof m.args, [number]>>();
  }

  // raw packets
  const packets = server.packets({ highWaterMark: 16 });
  expect<Equal<typeof packets, Subscription<ReceivedPacket, null>>>();
  for await (const p of packets) {
    const n: number = await address.packet(p.data);
    void n;
  }
  using _forwarding = server.forward(address);

  // marked numbers go where typetags are inferred, not where a typespec decides
  await address.send('/avatar/parameters/Speed', float(1));
  const m = new Message('/x', float(1), int64(2));
  expect<Equal<typeof m, Message<readonly OscArg[]>>>();
  // @ts-expect-error with a typespec, give plain values
  Message.typed('/x', 'f', float(1));
  // @ts-expect-error with a route's typespec too
  await address.send(params, float(1));
}
void check;
