// Where a type error lands: on the argument that does not fit its typetag, not on the path or the
// target (each @ts-expect-error below sits on the line of the bad value; were the error reported
// at the path, the directive would be unused, and the path's line an error). Never executed.
import { Address, Message, Midi, Server } from '../../src/index.js';

async function check(): Promise<void> {
  const server = new Server();
  const foo = server.route('/foo', 'hdm');
  const address = new Address({ port: 9000 });

  Message.typed(
    '/foo',
    'hdm',
    // @ts-expect-error 'h' takes a bigint
    1,
    2.5,
    new Midi(1, 2, 3, 4),
  );
  Message.typed(
    foo,
    1n,
    // @ts-expect-error 'd' takes a number
    '2.5',
    new Midi(1, 2, 3, 4),
  );
  await address.send(
    foo,
    // @ts-expect-error 'h' takes a bigint
    1,
    2.5,
    new Midi(1, 2, 3, 4),
  );
  await address.send(
    { path: '/lit', typespec: 'if' } as const,
    1,
    // @ts-expect-error 'f' takes a number
    'x',
  );
  await address.send(
    '/any',
    1,
    // @ts-expect-error undefined is not an OSC value
    undefined,
  );
  await address.delay(
    0.5,
    foo,
    // @ts-expect-error 'h' takes a bigint
    1,
    2.5,
    new Midi(1, 2, 3, 4),
  );
  await address.request(foo, [
    // @ts-expect-error 'h' takes a bigint
    1,
    2.5,
    new Midi(1, 2, 3, 4),
  ]);
}
void check;
