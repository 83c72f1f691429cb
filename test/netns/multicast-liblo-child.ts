// Multicast interop with liblo, run inside a network namespace by test/interop/multicast.test.ts:
// aiolo members and a liblo server (lo_peer, built beforehand) in one group, each way. Prints one
// JSON line per case and exits 1 if any failed; refuses to run (exit 2) where an interface other
// than loopback exists, so that no multicast packet can leave the machine.
import { networkInterfaces } from 'node:os';
import {
  ANY_PATH,
  Char,
  Message,
  Midi,
  MultiCast,
  MultiCastAddress,
  OscSymbol,
  Server,
  TimeTag,
} from '../../src/index.js';
import { take } from '../helpers/async.js';
import { asMessage, LoReceiver, LoSender, loMessageCommand } from '../helpers/lo.js';

const GROUP = '224.0.1.9';

if (Object.keys(networkInterfaces()).some((name) => name !== 'lo')) {
  process.stderr.write('refusing to send multicast outside a network namespace\n');
  process.exit(2);
}

const MESSAGES = [
  Message.typed('/mc/i', 'ihfd', -2147483648, -9223372036854775808n, Number.NEGATIVE_INFINITY, -0),
  Message.typed('/mc/s', 'sScm', 'héllo', new OscSymbol('sym'), new Char(0xff), new Midi(1, 2, 3, 4)),
  Message.typed(
    '/mc/b',
    'btTFNI',
    Uint8Array.of(1, 2, 3, 4, 5),
    new TimeTag(1, 2),
    true,
    false,
    null,
    Symbol.for('aiolo.INFINITUM') as never,
  ),
  new Message('/mc/empty'),
];

let failed = 0;
async function run(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
    process.stdout.write(`${JSON.stringify({ case: name, ok: true })}\n`);
  } catch (err) {
    failed++;
    process.stdout.write(`${JSON.stringify({ case: name, ok: false, error: String(err) })}\n`);
  }
}

function same(got: Message[], want: Message[], who: string): void {
  if (got.length !== want.length || got.some((m, i) => !m.equals(want[i]))) {
    throw new Error(`${who} got ${got.map(String).join('; ')}, sent ${want.map(String).join('; ')}`);
  }
}

await run('aiolo -> liblo', async () => {
  const member = new Server({ multicast: new MultiCast(GROUP, { port: 0 }) });
  await member.start();
  try {
    await using lo = await LoReceiver.start(`osc.udp://${GROUP}:${member.port}`);
    const own = member.route(ANY_PATH).sub({ incoming: true });
    const a = new MultiCastAddress(member);
    for (const m of MESSAGES) await a.message(m);
    same(
      (await lo.waitFor(MESSAGES.length)).map((m) => m.message),
      MESSAGES,
      'liblo',
    );
    // the sender is a member too, and hears itself (loopback)
    same(
      (await take(own, MESSAGES.length)).map((m) => asMessage(m)),
      MESSAGES,
      'the sending member',
    );
  } finally {
    await member.stop();
  }
});

await run('liblo -> aiolo', async () => {
  const members = [new Server({ multicast: new MultiCast(GROUP, { port: 0 }) })];
  await (members[0] as Server).start();
  members.push(new Server({ multicast: new MultiCast(GROUP, { port: (members[0] as Server).port as number }) }));
  await (members[1] as Server).start();
  try {
    const subs = members.map((s) => s.route(ANY_PATH).sub({ incoming: true }));
    await using lo = new LoSender();
    await lo.command(`target osc.udp://${GROUP}:${(members[0] as Server).port}/`);
    for (const m of MESSAGES) await lo.command(loMessageCommand(m));
    for (const [i, sub] of subs.entries()) {
      const got = await take(sub, MESSAGES.length);
      same(
        got.map((m) => asMessage(m)),
        MESSAGES,
        `member ${i}`,
      );
    }
  } finally {
    await Promise.all(members.map((s) => s.stop()));
  }
});

process.stdout.write(`${JSON.stringify({ done: true, failed })}\n`);
process.exit(failed === 0 ? 0 : 1);
