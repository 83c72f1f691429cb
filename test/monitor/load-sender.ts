// A load for the monitor's test, run as its own process: RATE messages per second over UDP to
// 127.0.0.1:PORT for SECONDS, spread over ADDRESSES addresses (/load/N, `fi`: a counter and a
// sine), after DISTINCT one-off addresses (/churn/N) that push the monitor's table past its bound.
// Prints `sent N` when done.
//   node --import tsx test/monitor/load-sender.ts PORT RATE SECONDS ADDRESSES DISTINCT
import { createSocket } from 'node:dgram';
import { encodeMessage } from '../../src/index.js';

const [port, rate, seconds, addresses, distinct] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number,
  number,
];
const socket = createSocket('udp4');
let outstanding = 0;
let finished: (() => void) | undefined;
const send = (packet: Uint8Array): void => {
  outstanding++;
  socket.send(packet, port, '127.0.0.1', () => {
    if (--outstanding === 0) finished?.();
  });
};

for (let i = 0; i < distinct; i++) send(encodeMessage(`/churn/${i}`, 'i', [i]));
const paths = Array.from({ length: addresses }, (_, i) => `/load/${i}`);
let sent = 0;
const total = rate * seconds;
const start = performance.now();
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    // as many as the rate says by now: the pace of a real sender, whatever the timer's jitter
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
    for (; sent < due; sent++) {
      send(encodeMessage(paths[sent % addresses] as string, 'fi', [Math.sin(sent / 1000), sent]));
    }
    if (sent >= total) {
      clearInterval(timer);
      resolve();
    }
  }, 5);
});
// every datagram handed to the kernel before the socket closes
if (outstanding > 0) await new Promise<void>((resolve) => (finished = resolve));
socket.close(() => console.log(`sent ${sent + distinct}`));
