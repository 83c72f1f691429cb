// A link-local IPv6 sender is answered by the interface it came from, on both UDP paths: the
// sender's address carries its scope (`fe80::b%v0`), as node:dgram writes it. Checked in network
// namespaces of the test's own, joined by veth pairs, with a decoy link whose route comes first
// (test/netns/link-local-child.ts); nothing leaves the machine.
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { assertAllPassed, needNetns, runInNetns } from '../helpers/netns.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

// Inside the test's namespace: a mount namespace of its own for `ip netns` (namespace c lives in
// its /run, and goes with it), the decoy pair x0/x1 and the pair v0 (here) / v1 (in c), each end
// with a link-local address (nodad: usable at once), then the child.
const SETUP = [
  'ip link set lo up',
  'ip link add x0 type veth peer name x1',
  'ip link set x0 up',
  'ip link set x1 up',
  'ip -6 addr add fe80::aa/64 dev x0 nodad',
  'ip -6 addr add fe80::ab/64 dev x1 nodad',
].join(' && ');
const IN_MOUNT_NS = [
  'mount -t tmpfs none /run',
  'mkdir -p /run/netns',
  'ip netns add c',
  'ip link add v0 type veth peer name v1 netns c',
  'ip -6 addr add fe80::a/64 dev v0 nodad',
  'ip link set v0 up',
  'ip netns exec c ip link set lo up',
  'ip netns exec c ip -6 addr add fe80::b/64 dev v1 nodad',
  'ip netns exec c ip link set v1 up',
  'exec "$@"',
].join(' && ');

test('a link-local IPv6 sender is answered by its own interface', { timeout: 60_000 }, async (t) => {
  if (!needNetns(t)) return;
  const child = [process.execPath, '--import', 'tsx', 'test/netns/link-local-child.ts', 'server'];
  const r = await runInNetns(['unshare', '-m', 'sh', '-c', IN_MOUNT_NS, 'sh', ...child], {
    cwd: ROOT,
    timeoutMs: 50_000,
    setup: SETUP,
  });
  assertAllPassed(r, 1);
});
