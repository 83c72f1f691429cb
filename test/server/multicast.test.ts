// Multicast, kept on this machine: every test here runs its sockets in a fresh network namespace
// with only a loopback interface (test/helpers/netns.ts), so nothing is sent to a real network.
// The checks themselves are in test/netns/multicast-child.ts, which reports each case as a JSON
// line; the Python aiolo README's multicast example runs as it is, from examples/multicast.ts.
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type CaseLine, caseLines, describeResult, type NetnsResult, needNetns, runInNetns } from '../helpers/netns.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEST_TIMEOUT_MS = 30_000;
const RUN_TIMEOUT_MS = 25_000;
const MEMBERS = 10; // examples/multicast.ts's cluster

/** `node --import tsx <script>` in a namespace, from the repository root. */
function runScript(script: string): Promise<NetnsResult> {
  return runInNetns([process.execPath, '--import', 'tsx', script], { cwd: ROOT, timeoutMs: RUN_TIMEOUT_MS });
}

// the child runs once, for all the tests that look at its cases
let child: Promise<{ result: NetnsResult; lines: CaseLine[] }> | undefined;
function childRun(): Promise<{ result: NetnsResult; lines: CaseLine[] }> {
  child ??= runScript('test/netns/multicast-child.ts').then((result) => ({ result, lines: caseLines(result) }));
  return child;
}

async function childCase(id: string): Promise<CaseLine> {
  const { result, lines } = await childRun();
  const line = lines.find((l) => l.case === id);
  assert.ok(line !== undefined, `case ${id} did not report\n${describeResult(result)}`);
  assert.equal(line.ok, true, `case ${id} failed: ${line.error}\n${describeResult(result)}`);
  return line;
}

describe('the network namespace', () => {
  test('has only loopback, up, with multicast on and 224.0.0.0/4 routed to it', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    if (!needNetns(t)) return;
    const r = await runInNetns(['sh', '-c', 'ip -o link show; echo ---; ip route get 224.0.1.1'], {
      timeoutMs: RUN_TIMEOUT_MS,
    });
    assert.equal(r.code, 0, describeResult(r));
    const [links = '', route = ''] = r.stdout.split('---\n');
    const names = links
      .trim()
      .split('\n')
      .map((l) => l.split(':')[1]?.trim());
    assert.deepEqual(names, ['lo'], links);
    assert.match(links, /<[^>]*\bMULTICAST\b[^>]*\bUP\b[^>]*>/);
    assert.match(route, /^multicast 224\.0\.1\.1 dev lo\b/);
  });
});

describe('multicast (in a network namespace)', () => {
  test('a: three members each receive every message sent to the group by one of them (Python aiolo test_multicast)', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    if (!needNetns(t)) return;
    const line = await childCase('a');
    assert.deepEqual(line.perMember, [
      ['foo', 'bar', 'baz'],
      ['foo', 'bar', 'baz'],
      ['foo', 'bar', 'baz'],
    ]);
    assert.deepEqual(line.counts, { foo: 3, bar: 3, baz: 3 });
    assert.equal(line.sender, `osc.udp://224.0.1.1:${line.port}/`);
  });

  test("b: a server URL whose host is a group joins it (liblo's rule)", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    if (!needNetns(t)) return;
    const line = await childCase('b');
    const url = `osc.udp://224.0.1.9:${line.port}/`;
    assert.deepEqual(line.urls, [url, url]);
    assert.deepEqual(line.got, [['hello'], ['hello']]);
  });

  test("c: members joined on iface 'lo' or ip 127.0.0.1 receive", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    if (!needNetns(t)) return;
    const line = await childCase('c');
    assert.equal((line.got as unknown[]).length, 3);
    for (const got of line.got as string[][]) assert.deepEqual([...got].sort(), ['from a member', 'from an address']);
  });

  test('d: a unicast send to a member’s port reaches exactly one member', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    if (!needNetns(t)) return;
    const line = await childCase('d');
    const receivedBy = line.receivedBy as { member: number; value: string }[];
    assert.equal(receivedBy.length, 1, JSON.stringify(receivedBy));
    assert.equal(receivedBy[0]?.value, 'unicast');
  });

  test('e: a bundle sent to the group is dispatched at its timetag on every member', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    if (!needNetns(t)) return;
    const line = await childCase('e');
    const arrivals = line.arrivals as { member: number; late: number }[];
    assert.deepEqual(
      arrivals.map((a) => a.member),
      [0, 1, 2],
    );
    for (const a of arrivals) assert.ok(a.late >= 0 && a.late < 1, JSON.stringify(a));
  });

  test('the child reports every case and exits 0', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    if (!needNetns(t)) return;
    const { result, lines } = await childRun();
    assert.equal(result.timedOut, false, describeResult(result));
    assert.deepEqual(
      lines.filter((l) => l.case !== undefined).map((l) => [l.case, l.ok]),
      ['a', 'b', 'c', 'd', 'e'].map((id) => [id, true]),
      describeResult(result),
    );
    assert.deepEqual(lines.at(-1), { done: true, passed: 5, failed: 0 });
    assert.equal(result.code, 0, describeResult(result));
  });

  test('the child refuses to run outside a namespace, before opening a socket', {
    timeout: TEST_TIMEOUT_MS,
  }, async (t) => {
    const others = Object.keys(networkInterfaces()).filter((name) => name !== 'lo');
    if (others.length === 0) {
      t.skip('this host has only loopback: the child would run here');
      return;
    }
    const { execFile } = await import('node:child_process');
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'test/netns/multicast-child.ts'],
        { cwd: ROOT, timeout: RUN_TIMEOUT_MS },
        (err, stdout) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout }),
      );
    });
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stdout, /"refused":true/);
    assert.doesNotMatch(r.stdout, /"case"/);
  });
});

describe('examples/multicast.ts (the Python aiolo README example)', () => {
  test('ten members each receive the one message sent to the group', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    if (!needNetns(t)) return;
    const r = await runScript('examples/multicast.ts');
    assert.equal(r.code, 0, describeResult(r));
    const got = r.stdout.split('\n').filter((l) => l.startsWith('/foo got message: '));
    assert.deepEqual(got, Array(MEMBERS).fill('/foo got message: foo'), describeResult(r));
    assert.match(r.stdout, new RegExp(`^${MEMBERS} servers in MultiCast\\(224\\.0\\.1\\.1, port [1-9]\\d*\\)$`, 'm'));
    assert.match(r.stdout, new RegExp(`^all ${MEMBERS} members received: \\["foo"(,"foo"){${MEMBERS - 1}}\\]$`, 'm'));
    assert.equal(r.stderr, '', describeResult(r));
  });
});
