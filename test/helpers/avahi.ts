// A real Zeroconf stack for the discovery tests: Debian's avahi-daemon, started inside a network
// namespace of its own (nothing reaches a real network) with a mount namespace whose /run is a
// tmpfs, so that its private D-Bus system bus and its pid file hide nothing of the machine's.
// It listens on `lo` only. Needs root, util-linux, iproute2, avahi-daemon, avahi-utils and dbus;
// locally without them the tests skip naming the packages, under CI=true they fail.
import type { TestContext } from 'node:test';
import { NETNS_SETUP, type NetnsResult, netnsStatus, runInNetns } from './netns.js';
import { onPath, skipOrFail } from './peers.js';

const AVAHI_CONF = `[server]
use-ipv4=yes
use-ipv6=no
allow-interfaces=lo
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
`;

/**
 * What runs inside the namespaces before the command, then after it: /run a tmpfs, dbus-daemon
 * and avahi-daemon in the foreground (so that they stay in the command's process group and die
 * with it), avahi ready (`avahi-daemon --check`), the command, then both daemons stopped.
 */
const AVAHI_SCRIPT = `set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/dbus /run/avahi-daemon /run/aiolo-avahi
cat > /run/aiolo-avahi/avahi-daemon.conf <<'CONF'
${AVAHI_CONF}CONF
dbus-daemon --system --nofork --nopidfile & DBUS=$!
for i in $(seq 100); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.05; done
avahi-daemon --no-drop-root --no-chroot --no-rlimits -f /run/aiolo-avahi/avahi-daemon.conf >/run/aiolo-avahi/log 2>&1 & AVAHI=$!
trap 'kill $AVAHI $DBUS 2>/dev/null; wait 2>/dev/null' EXIT
for i in $(seq 100); do avahi-daemon --check 2>/dev/null && break; sleep 0.05; done
avahi-daemon --check || { cat /run/aiolo-avahi/log >&2; exit 3; }
set +e
"$@"
`;

const PACKAGES = 'avahi-daemon avahi-utils dbus';

export interface AvahiStatus {
  readonly available: boolean;
  readonly missing: string | undefined;
}

let status: AvahiStatus | undefined;

export function avahiStatus(): AvahiStatus {
  if (status !== undefined) return status;
  const ns = netnsStatus();
  const tools = ['avahi-daemon', 'avahi-browse', 'avahi-publish', 'dbus-daemon'].filter((c) => !onPath(c));
  if (!ns.available) status = { available: false, missing: ns.missing };
  else if (tools.length > 0)
    status = { available: false, missing: `${tools.join(', ')} missing: apt-get install ${PACKAGES}` };
  else status = { available: true, missing: undefined };
  return status;
}

/** Call first in a test that needs avahi: skips locally without it; under CI=true that fails. */
export function needAvahi(t: TestContext): boolean {
  const { available, missing } = avahiStatus();
  if (available) return true;
  return skipOrFail(t, missing ?? 'avahi is missing', 'the avahi tests');
}

/** Runs `argv` in a fresh network and mount namespace where avahi-daemon runs on `lo`. */
export function runWithAvahi(
  argv: readonly string[],
  options: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<NetnsResult> {
  return runInNetns(['unshare', '-m', '--propagation', 'private', 'sh', '-c', AVAHI_SCRIPT, 'sh', ...argv], {
    ...options,
    setup: NETNS_SETUP,
  });
}
