// The size curve of issue 17 item 6, one table from a results object: CONNECT CPU and memory at
// 1k / 10k / 100k keys and devices (id- and tag-scoped), publish CPU with 1 / 100 / 10,000
// subscriptions, store write time and event-loop delay at each size, and the CLI start time.
// Printed at the end of a run (run.ts) and in the README section (readme.ts). Absent sections
// show "–".
import { fmt } from './stats.ts';
import type { Table } from './report.ts';

type J = Record<string, unknown>;
const o = (v: unknown): J => (v && typeof v === 'object' ? (v as J) : {});
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const arr = (v: unknown): J[] => (Array.isArray(v) ? (v as J[]) : []);

export const CURVE_SIZES = [1_000, 10_000, 100_000] as const;
export const CURVE_SUBSCRIPTIONS = [1, 100, 10_000] as const;

export function curveTable(result: unknown): Table {
  const s = o(o(result).sections);
  const keys = arr(o(s.keys).connect);
  const tags = arr(o(s.tags).connect);
  const store = arr(o(s.store).sizes);
  const subs = arr(o(s.subs).results);
  const cli = o(s.cli);

  const at = (rows: J[], field: string, n: number) => rows.find((r) => num(r[field]) === n) ?? {};
  const bySize = (rows: J[], sizeField: string, f: (r: J) => string) =>
    CURVE_SIZES.map((n) => f(at(rows, sizeField, n)));
  const sub = (matchingAll: boolean, f: (r: J) => string) =>
    CURVE_SUBSCRIPTIONS.map((n) => {
      // One subscription: "1 matching" and "all match" are the same run.
      const r = subs.find((x) => num(x.subscriptions) === n && (n === 1 || (num(x.matching) === 1) !== matchingAll));
      return r ? f(r) : '–';
    });
  const pair = (a: unknown, b: unknown) => `${fmt(num(a))} (aedes ${fmt(num(b))})`;

  const list = num(cli.devicesListP50);
  return {
    title:
      'Curve: 1k / 10k / 100k keys and devices; 1 / 100 / 10,000 subscriptions (issue 17 item 6; – = not in this run)',
    header: ['measure', '1k · 1 subscription', '10k · 100 subscriptions', '100k · 10,000 subscriptions'],
    rows: [
      ['CONNECT broker CPU, single-device key (µs)', ...bySize(keys, 'keys', (r) => fmt(num(r.cpuUsPerConnect)))],
      ['CONNECT p50 latency (ms)', ...bySize(keys, 'keys', (r) => fmt(num(r.connectP50Ms)))],
      ['memory the keys and devices cost the broker (MB)', ...bySize(keys, 'keys', (r) => fmt(num(r.memoryMB)))],
      ['CONNECT broker CPU, id-scoped key, tag store (µs)', ...bySize(tags, 'devices', (r) => fmt(num(r.idCpuUs)))],
      [
        'CONNECT broker CPU, tag-scoped key, 100 devices match (µs)',
        ...bySize(tags, 'devices', (r) => fmt(num(r.tag100CpuUs))),
      ],
      [
        'CONNECT broker CPU, tag-scoped key, every device matches (µs)',
        ...bySize(tags, 'devices', (r) => fmt(num(r.tagAllCpuUs))),
      ],
      [
        'PUBLISH broker CPU, state report, 1 subscriber matching (µs)',
        ...sub(false, (r) => pair(r.keyportCpuUsPerPublish, r.aedesCpuUsPerPublish)),
      ],
      [
        'PUBLISH broker CPU, state report, every subscriber matching (µs)',
        ...sub(true, (r) => pair(r.keyportCpuUsPerPublish, r.aedesCpuUsPerPublish)),
      ],
      ['store: create one key, durable write, median (ms)', ...bySize(store, 'size', (r) => fmt(num(r.writeMs)))],
      ['store: event-loop delay p99 while writing (ms)', ...bySize(store, 'size', (r) => fmt(num(r.p99)))],
      [
        'store: load in a fresh process (ms / RSS MB)',
        ...bySize(store, 'size', (r) =>
          Number.isFinite(num(r.loadMs)) ? `${fmt(num(r.loadMs))} / ${fmt(num(r.loadRssMB))}` : '–',
        ),
      ],
      [
        'CLI start: `keyport devices list`, p50 (ms; any size)',
        Number.isFinite(list)
          ? `${fmt(list)} (best ${fmt(num(cli.devicesListMin))}; node -e 0: ${fmt(num(cli.nodeP50))})`
          : '–',
        '',
        '',
      ],
    ],
  };
}
