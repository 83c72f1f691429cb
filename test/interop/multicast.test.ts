// Multicast interop with liblo, inside a network namespace the test creates (multicast routed on
// lo only): aiolo sends to a group liblo has joined, and liblo sends to a group aiolo has joined.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LO_PEER, loPeerBinary } from '../helpers/lo.js';
import { describeResult, needNetns, runInNetns } from '../helpers/netns.js';
import { needPeer } from '../helpers/peers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('multicast both ways between aiolo and liblo, in a network namespace', { timeout: 60_000 }, async (t) => {
  if (!needPeer(t, LO_PEER) || !needNetns(t)) return;
  loPeerBinary(); // built out here; the child finds it in the same place
  const r = await runInNetns([process.execPath, '--import', 'tsx', 'test/netns/multicast-liblo-child.ts'], {
    cwd: ROOT,
    timeoutMs: 45_000,
  });
  const lines = r.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { case?: string; ok?: boolean; done?: boolean });
  assert.deepEqual(
    lines.filter((l) => l.case !== undefined).map((l) => [l.case, l.ok]),
    [
      ['aiolo -> liblo', true],
      ['liblo -> aiolo', true],
    ],
    describeResult(r),
  );
  assert.equal(r.code, 0, describeResult(r));
});
