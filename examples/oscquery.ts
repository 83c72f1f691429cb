// npm run example:oscquery — a synth's controls as typed routes, published over OSCQuery on an
// ephemeral port. The first line on stdout is the namespace's HTTP URL; open it in a browser, or
// `aiolo query URL`. Serves until SIGINT or SIGTERM.
import { OscQueryServer, Server } from '../src/index.js';

const server = await new Server('osc.udp://127.0.0.1:0').start();
const freq = server.route('/synth/freq', 'f', {
  range: { min: 20, max: 20000 },
  unit: 'Hz',
  clipmode: 'both',
  description: 'oscillator frequency',
});
const on = server.route('/synth/on', 'T', { description: 'note on' });
const off = server.route('/synth/off', 'F', { description: 'note off' });
const name = server.route('/synth/name', 's', { description: 'patch name' });

const query = await new OscQueryServer(server, { name: 'aiolo synth' }).start();
query.set(freq, 440);
query.set(name, 'init');
console.log(query.url);
console.error(`OSC on ${server.url}`);

for (const route of [freq, on, off, name]) {
  route.on((args, m) => console.error(`${m.path} ${JSON.stringify(args)}`));
}

const stop = async () => {
  await query.stop();
  await server.stop();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
