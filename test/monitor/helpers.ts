// `aiolo monitor` as a child process, for the monitor's tests: its page's URL and where it listens.
import { AIOLO, Running } from '../helpers/proc.js';

export interface MonitorProcess {
  readonly proc: Running;
  /** The page: `http://127.0.0.1:PORT/`. */
  readonly page: string;
  /** The OSC URLs it listens on, in the order given. */
  readonly listening: readonly string[];
}

/** Starts `aiolo monitor URLS...` (page on 127.0.0.1, any free port) and reads its first lines. */
export async function startMonitorProcess(urls: readonly string[]): Promise<MonitorProcess> {
  const proc = new Running([...AIOLO, 'monitor', '--http', '127.0.0.1:0', ...urls]);
  try {
    const lines = (): string[] => proc.stdout.toString('utf8').split('\n');
    await proc.until(
      () => lines().length > urls.length + 1 || proc.child.exitCode !== null,
      'the monitor to print its URLs',
      30_000,
    );
    const [page, ...rest] = lines();
    if (page === undefined || !/^http:\/\/127\.0\.0\.1:\d+\/$/.test(page)) {
      throw new Error(
        `the monitor's first line is not its page's URL: ${JSON.stringify(page)}; stderr: ${proc.stderr}`,
      );
    }
    const listening = rest.slice(0, urls.length).map((l) => l.replace(/^listening on /, ''));
    return { proc, page, listening };
  } catch (err) {
    await proc.stop('SIGKILL').catch(() => undefined);
    throw err;
  }
}

/** The port of a `osc.udp://host:PORT/` URL. */
export function portOf(url: string): number {
  const m = /:(\d+)\/?$/.exec(url);
  if (m === null) throw new Error(`no port in ${url}`);
  return Number(m[1]);
}
