// How noisy a run was: the machine's load average at its start and end (run.ts records them) and
// the spread of the alternating rounds, from every per-round series a section keeps in its
// figures (fields named rounds…: e.g. publish's roundsMsgPerSec, subs' roundsKeyportCpuUsPerPublish).
import { median } from './stats.ts';

export interface RoundSpread {
  /** Per-round series found (two rounds or more). */
  series: number;
  /** Median and largest (max − min) / median of a series, in per cent. */
  medianPct: number;
  maxPct: number;
}

export function roundSpread(result: unknown): RoundSpread {
  const spreads: number[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 8 || !v || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (k === 'tables') continue;
      if (/^rounds[A-Z]/.test(k) && Array.isArray(x)) {
        const xs = x.filter((n): n is number => typeof n === 'number' && Number.isFinite(n));
        const m = median(xs);
        if (xs.length >= 2 && m > 0) spreads.push(((Math.max(...xs) - Math.min(...xs)) / m) * 100);
      } else walk(x, depth + 1);
    }
  };
  walk(result, 0);
  return {
    series: spreads.length,
    medianPct: median(spreads),
    maxPct: spreads.length ? Math.max(...spreads) : Number.NaN,
  };
}

/** Load averages (1, 5, 15 min) as "a / b / c". */
export function loadText(l: unknown): string {
  return Array.isArray(l) && l.length === 3 ? l.map((x) => Number(x).toFixed(2)).join(' / ') : 'not recorded';
}
