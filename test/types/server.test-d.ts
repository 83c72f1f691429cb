// Compile-time tests of the server, route, subscription and address types (never executed).
import {
  Address,
  ANY_ARGS,
  type Incoming,
  Midi,
  merge,
  NO_ARGS,
  type OscArg,
  Route,
  Server,
  type Subscription,
} from '../../src/index.js';
import { type Equal, expect } from './expect.js';

async function check(): Promise<void> {
  const server = new Server({ url: 'osc.tcp://:0' });
  expect<Equal<typeof server.url, string | undefined>>();
  // a started server's url and port are plain values
  const started = await new Server('osc.tcp://:0').start();
  expect<Equal<typeof started.url, string>>();
  expect<Equal<typeof started.port, number>>();
  expect<Equal<typeof started.running, true>>();
  started.route('/still/a/server', 'i');
  // @ts-expect-error an option name that does not exist
  new Server({ recvBufSize: 1 });
  const foo = server.route('/foo', 'hdm');
  expect<Equal<typeof foo, Route<[bigint, number, Midi]>>>();
  const bar = server.route('/bar', ANY_ARGS);
  expect<Equal<typeof bar, Route<OscArg[]>>>();
  const plain = server.route('/plain');
  expect<Equal<typeof plain, Route<OscArg[]>>>();
  const exit = server.route('/exit', NO_ARGS);
  expect<Equal<typeof exit, Route<[]>>>();
  const shared = new Route('/shared', 'si');
  expect<Equal<typeof shared, Route<[string, number]>>>();
  const again = server.route(shared);
  expect<Equal<typeof again, typeof shared>>();

  // subscriptions yield the typed args, or Incoming records
  const sub = foo.sub();
  expect<Equal<typeof sub, Subscription<[bigint, number, Midi], Route<[bigint, number, Midi]>>>>();
  for await (const [h, d, m] of sub) {
    expect<Equal<[typeof h, typeof d, typeof m], [bigint, number, Midi]>>();
  }
  for await (const incoming of foo.sub({ incoming: true, highWaterMark: 10, overflow: 'pause' })) {
    expect<Equal<typeof incoming, Incoming<[bigint, number, Midi]>>>();
    await incoming.source.send('/reply', incoming.args[0]);
  }
  // @ts-expect-error not an overflow policy
  foo.sub({ overflow: 'drop-all' });

  // merge yields [route, args] pairs
  for await (const [route, args] of merge(foo.sub(), exit.sub())) {
    if (route === exit) break;
    expect<Equal<typeof args, [bigint, number, Midi] | []>>();
  }

  // sending to a route is typed by its typespec
  const address = new Address({ url: 'osc.tcp://localhost:9000' });
  await address.send(foo, 1n, 2.5, new Midi(1, 2, 3, 4));
  // @ts-expect-error 'h' takes a bigint
  await address.send(foo, 1, 2.5, new Midi(1, 2, 3, 4));
  // @ts-expect-error missing arguments
  await address.send(foo, 1n);
  await address.send(exit);
  await address.send('/any', 1, 'two', null, 3n);
  // @ts-expect-error undefined is not an OSC value
  await address.send('/any', undefined);
  await address.send({ path: '/lit', typespec: 'if' } as const, 1, 0.5);
  await address.delay(0.25, foo, 1n, 2.5, new Midi(0, 0, 0, 0));
  const n: number = await address.bundle([]);
  // ANY_PATH routes only receive: sending to one rejects at run time (test/server/basics.test.ts)
  void n;

  // lifecycle is data
  const running: boolean = server.running;
  const port: number | undefined = server.port;
  // @ts-expect-error readonly
  server.port = 5;
  void running;
  void port;
  await using disposable = new Server();
  void disposable;
}
void check;
