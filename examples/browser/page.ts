/// <reference lib="dom" />
// The page: a slider that sends /fader over a WebSocket, and a readout of what the server sends
// back to every tab. Built for the browser by server.ts (esbuild); aiolo/browser has no Node imports.
import { Client } from '../../src/browser/index.js';

const slider = document.querySelector<HTMLInputElement>('#fader');
const readout = document.querySelector<HTMLOutputElement>('#value');
const status = document.querySelector<HTMLElement>('#status');
if (slider === null || readout === null || status === null) throw new Error('the page lacks its elements');

// '/osc' is resolved against the page's address: ws://host:port/osc (wss: on an https page)
const osc = new Client('/osc');
osc.on('open', () => {
  status.textContent = 'connected';
});
osc.on('close', () => {
  status.textContent = 'reconnecting…';
});

// what the server sends every tab, typed from the typespec: [number]
const fader = osc.route('/fader', 'f');
fader.on(([value]) => {
  readout.value = value.toFixed(3);
  if (document.activeElement !== slider) slider.value = String(value);
});

slider.addEventListener('input', () => {
  // a send while the connection is down waits for it (up to a bound), and rejects rather than vanish
  // (sent with the route's typespec: always a float, even at 0 and 1)
  osc.send(fader, Number(slider.value)).catch((err: Error) => {
    status.textContent = err.message;
  });
});
