// The targets of issue 17, each judged from the figures of a results object (bench/results/*.json):
// met, not met, or not measured (its section absent from the run). Read by the README section
// (readme.ts) and the end of a run (run.ts), so both say the same.
import { fmt, fmtRatio } from './stats.ts';

type J = Record<string, unknown>;
const o = (v: unknown): J => (v && typeof v === 'object' ? (v as J) : {});
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);
const arr = (v: unknown): J[] => (Array.isArray(v) ? (v as J[]) : []);

export interface TargetVerdict {
  name: string;
  /** The figure(s) as shown, e.g. "0.93×" or "1,210 ms / 180 MB"; "–" when not measured. */
  measured: string;
  limit: string;
  /** null: not measured in this run. */
  met: boolean | null;
}

export function verdictText(met: boolean | null): string {
  return met === null ? 'not measured' : met ? 'met' : 'NOT MET';
}

/** `met` only when every figure is a number (absent figures: not measured). */
function judge(name: string, limit: string, figures: number[], measured: string, ok: () => boolean): TargetVerdict {
  const known = figures.length > 0 && figures.every(Number.isFinite);
  return { name, limit, measured: known ? measured : '–', met: known ? ok() : null };
}

export function issueTargets(result: unknown): TargetVerdict[] {
  const s = o(o(result).sections);
  const connect = o(s.connect);
  const publish = o(s.publish);
  const pr = o(publish.ratios);
  const cr = o(connect.ratios);
  const idle = o(connect.idleMemory);
  const tags = o(o(s.tags).ratios);
  const store = arr(o(s.store).sizes);
  const big = store.find((r) => num(r.size) === 100_000) ?? {};
  const auth = o(s.auth);
  const cli = o(s.cli);

  const rate = num(cr.keyportVsAedesRate);
  const cpu = num(cr.keyportVsAedesCpu);
  const st0 = num(pr.stateQos0KeyportVsAedes);
  const st1 = num(pr.stateQos1KeyportVsAedes);
  const cu0 = num(pr.qos0KeyportVsAedes);
  const cu1 = num(pr.qos1KeyportVsAedes);
  const tag = num(tags.tagVsIdAt100k);
  const p99 = num(big.p99);
  const rssOver = num(idle.keyportRssPerClientKB) - num(idle.aedesRssPerClientKB);
  const loadMs = num(big.loadMs);
  const loadMB = num(big.loadRssMB);
  const cold = num(o(auth.cold).perSec);
  const warm = num(o(auth.warm).perSec);
  const list = num(cli.devicesListP50);

  return [
    judge('CONNECT rate vs plain aedes', '≥ 0.9×', [rate], fmtRatio(rate), () => rate >= 0.9),
    judge('CONNECT broker CPU vs plain aedes', '≤ 1.2×', [cpu], fmtRatio(cpu), () => cpu <= 1.2),
    judge(
      'state-topic publish rate vs plain aedes, QoS 0 / QoS 1',
      '≥ 0.8× each',
      [st0, st1],
      `${fmtRatio(st0)} / ${fmtRatio(st1)}`,
      () => st0 >= 0.8 && st1 >= 0.8,
    ),
    judge(
      'custom-topic publish rate vs plain aedes, QoS 0 / QoS 1',
      '≥ 0.95× each',
      [cu0, cu1],
      `${fmtRatio(cu0)} / ${fmtRatio(cu1)}`,
      () => cu0 >= 0.95 && cu1 >= 0.95,
    ),
    judge(
      'tag-scoped CONNECT CPU at 100k devices vs a single-device key',
      '≤ 1.5×',
      [tag],
      fmtRatio(tag),
      () => tag <= 1.5,
    ),
    judge('event-loop delay p99 while writing the store at 100k', '≤ 20 ms', [p99], `${fmt(p99)} ms`, () => p99 <= 20),
    judge('RSS per idle client over plain aedes', '≤ 2 KB', [rssOver], `${fmt(rssOver)} KB`, () => rssOver <= 2),
    judge(
      'store load at 100k keys + 100k devices: time / RSS',
      '< 2 s and < 300 MB',
      [loadMs, loadMB],
      `${fmt(loadMs / 1000)} s / ${fmt(loadMB)} MB`,
      () => loadMs < 2000 && loadMB < 300,
    ),
    judge(
      'HTTP device auth (POST /auth/device), cold / warm keys',
      '≥ 5,000/s each',
      [cold, warm],
      `${fmt(cold)} / ${fmt(warm)} per s`,
      () => cold >= 5000 && warm >= 5000,
    ),
    judge('CLI `keyport devices list`, no server (p50)', '< 300 ms', [list], `${fmt(list)} ms`, () => list < 300),
  ];
}
