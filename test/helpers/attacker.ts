// A hostile peer in a process of its own, so that what the server's process spends is the
// server's alone: `node --import tsx test/helpers/attacker.ts '<json Attack>'` prints "ready",
// sends the packets on SIGUSR2, then prints "sent" and stays until it is stopped. Packets are built from a recipe, since they can be megabytes each.
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

/** `count` packets: `prefix + unit × repeat + (index) + suffix` as a path, with typetags `tags`. */
export interface Recipe {
  readonly prefix: string;
  readonly unit: string;
  readonly repeat: number;
  /** Append the packet's index to the path, so that every packet is new. */
  readonly unique?: boolean;
  readonly tags?: string;
  /** Then this many `T` typetags more (a big message with no argument data). */
  readonly trues?: number;
  /** Argument bytes after the typetags (zeros). */
  readonly argBytes?: number;
  /** Wrap the message in a bundle timed this many seconds from now. */
  readonly bundleAhead?: number;
  readonly count: number;
}

export interface Attack {
  readonly proto: 'udp' | 'tcp';
  readonly port: number;
  readonly recipes: readonly Recipe[];
}

function oscString(text: string): Buffer {
  const b = Buffer.alloc((Buffer.byteLength(text) + 4) & ~3);
  b.write(text, 'latin1');
  return b;
}

export function* packets(recipes: readonly Recipe[]): Generator<Buffer> {
  for (const r of recipes) {
    const body = r.unit.repeat(r.repeat);
    for (let i = 0; i < r.count; i++) {
      const path = `${r.prefix}${body}${r.unique ? i.toString(36) : ''}`;
      const message = Buffer.concat([
        oscString(path),
        oscString(`,${r.tags ?? ''}${'T'.repeat(r.trues ?? 0)}`),
        Buffer.alloc(r.argBytes ?? 0),
      ]);
      if (r.bundleAhead === undefined) {
        yield message;
        continue;
      }
      const head = Buffer.alloc(20);
      head.write('#bundle', 0, 'latin1');
      head.writeUInt32BE((Math.floor(Date.now() / 1000) + 2_208_988_800 + r.bundleAhead) >>> 0, 8);
      head.writeInt32BE(message.length, 16);
      yield Buffer.concat([head, message]);
    }
  }
}

async function main(attack: Attack): Promise<void> {
  if (attack.proto === 'udp') {
    const socket = createSocket('udp4');
    for (const p of packets(attack.recipes)) {
      await new Promise<void>((resolve, reject) =>
        socket.send(p, attack.port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      );
    }
    socket.close();
  } else {
    const socket = connect({ port: attack.port, host: '127.0.0.1' });
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    for (const p of packets(attack.recipes)) {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(p.length);
      await new Promise<void>((resolve, reject) =>
        socket.write(Buffer.concat([prefix, p]), (err) => (err ? reject(err) : resolve())),
      );
    }
    // stays open until the test kills it: the server reads at its own pace
  }
  process.stdout.write('sent\n');
}

if (process.argv[1]?.endsWith('attacker.ts')) {
  // started, and waiting for the word: the test starts measuring only after this process has
  // loaded, so that its start-up does not count against the server (they share two cores). The
  // handler goes first: a SIGUSR2 that came before it would end the process.
  process.once('SIGUSR2', () => {
    main(JSON.parse(process.argv[2] as string) as Attack).catch((err: unknown) => {
      process.stderr.write(`attacker: ${String(err)}\n`);
      process.exit(1);
    });
  });
  process.stdout.write('ready\n');
  setInterval(() => {}, 1 << 30); // (alive until SIGUSR2 or SIGTERM)
}
