// Pure helpers for the state chart: a device's state history -> one numeric series per attribute.
// Only finite numbers are charted; strings, booleans and objects are left to the state table.
import type { DeviceState } from '../../../src-main/core/types.ts';

/** The history the chart keeps; matches the backend's STATE_HISTORY ring. */
export const MAX_POINTS = 500;

export interface Point {
  /** Epoch milliseconds. */
  t: number;
  v: number;
}

export interface Series {
  attribute: string;
  /** Sorted by time. */
  points: Point[];
  min: number;
  max: number;
  last: number;
}

/** One series per attribute that ever held a finite number, sorted by attribute name. */
export function numericSeries(history: readonly DeviceState[]): Series[] {
  const byAttr = new Map<string, Point[]>();
  for (const state of history) {
    const t = Date.parse(state.time);
    if (!Number.isFinite(t)) continue;
    for (const [attribute, v] of Object.entries(state.data)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      let points = byAttr.get(attribute);
      if (!points) byAttr.set(attribute, (points = []));
      points.push({ t, v });
    }
  }
  const out: Series[] = [];
  for (const [attribute, points] of byAttr) {
    points.sort((a, b) => a.t - b.t);
    let min = Infinity;
    let max = -Infinity;
    for (const p of points) {
      if (p.v < min) min = p.v;
      if (p.v > max) max = p.v;
    }
    out.push({ attribute, points, min, max, last: points[points.length - 1]?.v ?? 0 });
  }
  return out.sort((a, b) => a.attribute.localeCompare(b.attribute));
}

/** Earliest and latest time over the given series, or null when they hold no points. */
export function timeSpan(series: readonly Series[]): { start: number; end: number } | null {
  let start = Infinity;
  let end = -Infinity;
  for (const s of series) {
    const first = s.points[0];
    const last = s.points[s.points.length - 1];
    if (first && first.t < start) start = first.t;
    if (last && last.t > end) end = last.t;
  }
  return start <= end ? { start, end } : null;
}

/** Map `value` in [min, max] onto [from, to]; a flat range maps to the middle. */
export function scale(value: number, min: number, max: number, from: number, to: number): number {
  if (max === min) return (from + to) / 2;
  return from + ((value - min) / (max - min)) * (to - from);
}

/** An SVG path through the points, given the two axis mappings. */
export function linePath(points: readonly Point[], x: (t: number) => number, y: (v: number) => number): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
}

/** Append a state, keeping at most `cap` entries (oldest dropped). */
export function appendCapped(history: readonly DeviceState[], state: DeviceState, cap = MAX_POINTS): DeviceState[] {
  const next = [...history, state];
  return next.length > cap ? next.slice(next.length - cap) : next;
}
