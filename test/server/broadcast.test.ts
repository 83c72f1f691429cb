// Broadcast, kept on this machine: the checks run in a fresh network namespace whose only way out
// is a veth pair with both ends inside it (test/netns/broadcast-child.ts). aiolo sends to the
// limited broadcast 255.255.255.255, as liblo does, and to a directed (subnet) broadcast, which
// liblo refuses; both reach aiolo's and liblo's servers, and liblo's oscsend reaches aiolo's.
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LO_PEER } from '../helpers/lo.js';
import { assertAllPassed, NETNS_BROADCAST_SETUP, needNetns, runInNetns } from '../helpers/netns.js';
import { needPeer, OSCSEND } from '../helpers/peers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('broadcast: 255.255.255.255 and a subnet broadcast, to aiolo and liblo servers', {
  timeout: 60_000,
}, async (t) => {
  if (!needNetns(t) || !needPeer(t, OSCSEND) || !needPeer(t, LO_PEER)) return;
  const r = await runInNetns([process.execPath, '--import', 'tsx', 'test/netns/broadcast-child.ts'], {
    cwd: ROOT,
    timeoutMs: 50_000,
    setup: NETNS_BROADCAST_SETUP,
  });
  assertAllPassed(r, 4);
});
