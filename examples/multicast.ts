// The Python aiolo README's multicast example, ported: ten servers join one multicast group and
// share one route; a message sent to the group from one of them reaches all ten, so the shared
// route's subscription receives it ten times.
//
// Multicast leaves this machine (TTL 1: the local network). To keep it on this host, run it in a
// network namespace whose loopback carries multicast, as the tests do (as root):
//
//   unshare -n sh -c 'ip link set lo up && ip link set lo multicast on &&
//     ip route add 224.0.0.0/4 dev lo && exec "$@"' sh npx tsx examples/multicast.ts
import { MultiCast, MultiCastAddress, Route, Server } from '../src/index.js';

const GROUP = '224.0.1.1';
const MEMBERS = 10;
const TIMEOUT_MS = 5000;

async function sub(foo: Route<[string]>, count: number): Promise<string[]> {
  const messages: string[] = [];
  for await (const [msg] of foo.sub()) {
    console.log(`/foo got message: ${msg}`);
    messages.push(msg);
    if (messages.length === count) break; // leaving the loop unsubscribes
  }
  return messages;
}

async function main(): Promise<void> {
  const foo = new Route('/foo', 's');
  const cluster: Server[] = [];
  try {
    // Every member of a group listens on the group's one port: a datagram sent to 224.0.1.1:PORT
    // reaches only the sockets bound to PORT. Python aiolo fixes it (15432); here the first member
    // takes any free port (0), and the others join the group on the port it was given, so the
    // example never clashes with something else listening on 15432.
    let multicast = new MultiCast(GROUP, { port: 0 });
    for (let i = 0; i < MEMBERS; i++) {
      const server = new Server({ multicast });
      server.route(foo);
      cluster.push(server);
      await server.start();
      if (i === 0) multicast = new MultiCast(GROUP, { port: server.port as number });
    }
    console.log(`${cluster.length} servers in ${multicast}`);

    // subscribe before sending: a subscription receives what arrives after it is made
    const task = sub(foo, cluster.length);

    const sender = cluster[Math.floor(Math.random() * cluster.length)] as Server;
    const address = new MultiCastAddress(sender);
    await address.send(foo, 'foo');

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${TIMEOUT_MS} ms waiting for ${cluster.length} messages`)),
        TIMEOUT_MS,
      );
    });
    const messages = await Promise.race([task, timeout]).finally(() => clearTimeout(timer));

    const expected = cluster.map(() => 'foo');
    if (JSON.stringify(messages) !== JSON.stringify(expected)) {
      throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(messages)}`);
    }
    console.log(`all ${cluster.length} members received: ${JSON.stringify(messages)}`);
  } finally {
    await Promise.all(cluster.map((server) => server.stop()));
  }
}

await main();
