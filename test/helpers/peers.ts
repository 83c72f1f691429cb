// Real liblo peers for differential tests. Locally a missing peer skips its tests with a message
// naming the Debian package; under CI=true a missing peer fails the test instead.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export const IN_CI = process.env.CI === 'true';

export interface Peer {
  readonly name: string;
  readonly command: string;
  readonly debianPackages: string;
  readonly available: boolean;
}

/** Whether `command` is on the PATH. */
export function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function pythonHasLiblo(): boolean {
  if (!existsSync('/usr/bin/python3')) return false;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import liblo'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const OSCSEND: Peer = {
  name: 'oscsend',
  command: 'oscsend',
  debianPackages: 'liblo-tools',
  available: onPath('oscsend'),
};

export const OSCDUMP: Peer = {
  name: 'oscdump',
  command: 'oscdump',
  debianPackages: 'liblo-tools',
  available: onPath('oscdump'),
};

export const OSCSENDFILE: Peer = {
  name: 'oscsendfile',
  command: 'oscsendfile',
  debianPackages: 'liblo-tools',
  available: onPath('oscsendfile'),
};

/** Debian's pyliblo, which only the system Python has. */
export const PYLIBLO: Peer = {
  name: 'python3-liblo',
  command: '/usr/bin/python3',
  debianPackages: 'python3-liblo',
  available: pythonHasLiblo(),
};

/**
 * Call first in a test that needs `peer`. Returns false (having skipped the test) when the peer is
 * missing locally; under CI=true a missing peer is a failure.
 */
export function needPeer(t: TestContext, peer: Peer): boolean {
  if (peer.available) return true;
  return skipOrFail(t, `${peer.name} is not installed: apt-get install ${peer.debianPackages}`);
}

/**
 * Skips the test with `message` (returning false, for `if (!...) return`); under CI=true, fails it
 * instead, naming `what` may not be skipped.
 */
export function skipOrFail(t: { skip(message: string): void }, message: string, what = 'interop tests'): false {
  if (IN_CI) throw new Error(`${message} (CI=true: ${what} may not be skipped)`);
  t.skip(message);
  return false;
}

/** oscsend command lines (after host and port) covering its types. */
export const OSCSEND_ARGS = [
  ['/t/i', 'iii', '42', '-2147483648', '2147483647'],
  ['/t/h', 'h', '9223372036854775807'],
  ['/t/fd', 'fd', '3.25', '-0.1'],
  ['/t/s', 'sS', 'hello world', 'sym'],
  ['/t/c', 'c', 'A'],
  ['/t/m', 'm', '90403f7f'],
  ['/t/tfni', 'TFNI'],
  ['/t/empty'],
];
