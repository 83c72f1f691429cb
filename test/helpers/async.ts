// Waiting for events with a deadline, never sleeping: a test that would hang fails instead, saying
// what it was waiting for.

export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first `n` items of an async iterable (then leaves it: `return()` ends a subscription). */
export async function take<T>(source: AsyncIterable<T>, n: number, ms = 5000): Promise<T[]> {
  const items: T[] = [];
  if (n === 0) return items;
  const run = async () => {
    for await (const item of source) {
      items.push(item);
      if (items.length >= n) break;
    }
    return items;
  };
  return within(ms, `${n} item(s)`, run()).catch((err: Error) => {
    throw new Error(
      `${err.message}; got ${items.length}: ${items.map((i) => String(Array.isArray(i) ? i.map(String) : i)).join(' | ')}`,
    );
  });
}

/** Everything an async iterable yields until it ends. */
export async function drain<T>(source: AsyncIterable<T>, ms = 5000): Promise<T[]> {
  const items: T[] = [];
  await within(
    ms,
    'the iteration to end',
    (async () => {
      for await (const item of source) items.push(item);
    })(),
  );
  return items;
}

/** Resolves when `emitter` emits `event` (with its arguments), within `ms`. */
export function event<A extends unknown[]>(
  emitter: { once(event: string, listener: (...args: A) => void): unknown },
  name: string,
  ms = 5000,
): Promise<A> {
  return within(ms, `event '${name}'`, new Promise<A>((resolve) => emitter.once(name, (...args: A) => resolve(args))));
}

/**
 * Resolves once `check()` holds, looking again after each timer turn, within `ms`. For state that
 * has no event to wait on (counters in `stats`, a kernel's drop count).
 */
export async function until(ms: number, what: string, check: () => boolean): Promise<void> {
  await within(
    ms,
    what,
    (async () => {
      while (!check()) await new Promise((resolve) => setTimeout(resolve, 1));
    })(),
  );
}
