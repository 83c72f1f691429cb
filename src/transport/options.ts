import { OscConfigError } from './errors.js';

// Plain JavaScript callers get no compile-time check of option names: a misspelt `recvBufSize`
// would be ignored in silence. Constructors check the names they are given against the ones they
// know, and say which known name was probably meant.

/** Throws OscConfigError for an option name not in `known`, naming the nearest known one. */
export function checkOptionNames(what: string, options: object, known: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const nearest = closest(name, known);
    throw new OscConfigError(
      'ERR_OSC_INVALID_OPTIONS',
      `${what} has no option ${JSON.stringify(name)}${nearest === undefined ? '' : `; did you mean ${nearest}?`} (options: ${known.join(', ')})`,
    );
  }
}

/** The known name nearest to `name` by edit distance, if it is near enough to be a misspelling. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = name.toLowerCase();
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  // a third of the name may differ: 'recvBufSize' finds 'recvBufferSize', 'colour' finds nothing
  return bestDistance <= Math.max(2, Math.ceil(name.length / 3)) ? best : undefined;
}

/** Levenshtein distance, in two rows. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = row;
  }
  return prev[b.length] as number;
}
