// What the children run inside network namespaces share: each case prints one JSON line, {"case",
// "ok", ...details} or {"case", "ok": false, "error"}, then {"done", "passed", "failed"}; the exit
// code is 1 if any case failed, and 2 (having run nothing) where an interface other than the
// namespace's own exists, so that nothing can leave the machine.
import { networkInterfaces } from 'node:os';

export type Case = () => Promise<Record<string, unknown>>;

export function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function check(condition: boolean, what: string, detail?: unknown): asserts condition {
  if (!condition) throw new Error(detail === undefined ? what : `${what}: ${JSON.stringify(detail)}`);
}

/** Runs `cases` in order and reports them; refuses to where interfaces beyond `allowed` exist. */
export async function runCases(cases: readonly [string, string, Case][], allowed: readonly string[]): Promise<number> {
  const others = Object.keys(networkInterfaces()).filter((name) => !allowed.includes(name));
  if (others.length > 0) {
    emit({
      refused: true,
      error: `interfaces other than ${allowed.join(', ')} exist (${others.join(', ')}): run this in a network namespace (test/helpers/netns.ts)`,
    });
    return 2;
  }
  let passed = 0;
  let failed = 0;
  for (const [id, title, run] of cases) {
    try {
      emit({ case: id, title, ok: true, ...(await run()) });
      passed++;
    } catch (err) {
      emit({ case: id, title, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      failed++;
    }
  }
  emit({ done: true, passed, failed });
  return failed === 0 ? 0 : 1;
}
