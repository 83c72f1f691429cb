// The Python aiolo README's echo server, ported: a TCP server with three typed routes, a client
// that sends plain messages and a bundle of delayed messages, and one `for await` loop that prints
// everything until /exit arrives.
import { Address, ANY_ARGS, Bundle, Message, Midi, merge, NO_ARGS, Server, TimeTag } from '../src/index.js';

async function pub(url: string): Promise<void> {
  const address = new Address({ url });
  console.log(`${address}: sending messages...`);
  for (let i = 0; i < 3; i++) {
    await address.send('/foo', BigInt(i), i + 0.5, new Midi(i, i, i, i));
    await address.send('/bar', 'hello', 'world');
  }
  // Delayed data: the server receives it now and dispatches each message at its bundle's timetag
  const now = TimeTag.now();
  const bundle = new Bundle();
  for (let i = 0; i < 3; i++) {
    bundle.add(
      new Bundle(
        [Message.typed('/foo', 'hdm', BigInt(i * 10), i * 10, new Midi(i * 10, i * 10, i * 10, i * 10))],
        now.add(i / 4),
      ),
    );
  }
  console.log(`${address}: sending bundle ${bundle}`);
  await address.bundle(bundle);
  // the delayed messages are due within 0.5 s; ask the subscription to exit after them
  console.log(`${address}: notifying subscription to exit...`);
  await address.delay(0.75, '/exit');
  await address.close();
}

async function main(): Promise<void> {
  const server = new Server({ url: 'osc.tcp://127.0.0.1:0' });
  await server.start();

  const foo = server.route('/foo', 'hdm'); // /foo takes an int64, a double and MIDI data
  const bar = server.route('/bar', ANY_ARGS); // /bar takes any arguments
  const exit = server.route('/exit', NO_ARGS); // /exit takes none

  const subscriptions = merge(foo.sub(), bar.sub(), exit.sub());
  await pub(server.url as string);

  for await (const [route, args] of subscriptions) {
    console.log(`${String(route.path)}: received [${args.map(String).join(', ')}]`);
    if (route === exit) break; // leaving the loop unsubscribes
  }
  await server.stop();
}

await main();
