// Summaries and formatting shared by the benchmark's sections.

export const median = (xs: readonly number[]): number => percentile(xs, 0.5);

/** The nearest-rank percentile (p in [0, 1]); NaN for no samples. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

export const rate = (x: number | undefined): string =>
  x === undefined || Number.isNaN(x) ? '—' : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : `${Math.round(x / 1e3)} k/s`;

/** A ratio as `1.23×`; '—' when there is none. */
export const times = (x: number | undefined): string =>
  x === undefined || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}×`;

export const ratio = (mine: number | undefined, theirs: number | undefined): string =>
  mine === undefined || theirs === undefined || !(theirs > 0) ? '—' : times(mine / theirs);

export const percent = (x: number): string => `${(x * 100).toFixed(x > 0 && x < 0.001 ? 3 : 1)}%`;

export const ms = (seconds: number): string => `${(seconds * 1000).toFixed(3)} ms`;

/** A Markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
