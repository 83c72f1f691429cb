// VRChat and an aiolo app discover each other over mDNS and talk over OSCQuery and OSC, in a
// network namespace with only loopback (nothing leaves the machine): test/oscquery/vrchat-child.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { caseLines, describeResult, needNetns, runInNetns } from '../helpers/netns.js';
import { seeded } from '../helpers/random.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIMEOUT_MS = 90_000;

test(
  'a simulated VRChat finds the aiolo app and sends to it; the app finds VRChat and sends it a float as f',
  { timeout: TIMEOUT_MS },
  seeded(async (r, t) => {
    if (!needNetns(t)) return;
    const res = await runInNetns([process.execPath, '--import', 'tsx', 'test/oscquery/vrchat-child.ts'], {
      cwd: ROOT,
      timeoutMs: TIMEOUT_MS - 10_000,
      env: { ...process.env, AIOLO_SEED: String(r.seed) },
    });
    const lines = caseLines(res);
    for (const id of ['vrchat-finds-aiolo', 'aiolo-finds-vrchat']) {
      const line = lines.find((l) => l.case === id);
      assert.ok(line !== undefined, `case ${id} did not report ${r.replay}\n${describeResult(res)}`);
      assert.equal(line.ok, true, `case ${id}: ${line.error} ${r.replay}\n${describeResult(res)}`);
    }
    assert.equal(res.code, 0, describeResult(res));
  }),
);
