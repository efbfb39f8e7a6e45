// The README Performance section rendered from a results object (bench/lib/readme.ts): each
// issue 17 target marked met / NOT MET / not measured from the figures, the curve, the noise, and
// the splice between README.md's markers.
import { describe, expect, it } from 'vitest';
import { curveTable } from '../../bench/lib/curve.ts';
import { roundSpread } from '../../bench/lib/noise.ts';
import { renderReadmeSection } from '../../bench/lib/readme.ts';
import { README_END, README_START, spliceReadme } from '../../bench/lib/readme-splice.ts';
import { issueTargets } from '../../bench/lib/targets.ts';

/** A full run's results, trimmed to the figures the section reads. */
function results(): Record<string, unknown> {
  return {
    kind: 'full',
    only: null,
    date: '2026-12-02T07:00:00.000Z',
    seconds: 321.5,
    machine: {
      nproc: 2,
      cpuModel: 'AMD EPYC',
      memoryGiB: 24,
      node: 'v20.20.2',
      platform: 'linux x64',
      aedes: '1.2.0',
      mosquitto: 'mosquitto version 2.0.11',
    },
    noise: { loadAvgStart: [1.5, 2, 2.25], loadAvgEnd: [3, 2.5, 2.25] },
    sections: {
      connect: {
        clients: 2000,
        inFlight: 100,
        results: [{ side: 'Keyport', connPerSec: 4000, roundsConnPerSec: [3900, 4000, 4100] }],
        ratios: { keyportVsAedesRate: 0.95, keyportVsAedesCpu: 1.35 },
        idleMemory: { keyportRssPerClientKB: 20.5, aedesRssPerClientKB: 19 },
      },
      publish: {
        ratios: {
          stateQos0KeyportVsAedes: 0.85,
          stateQos1KeyportVsAedes: 0.79,
          qos0KeyportVsAedes: 0.96,
          qos1KeyportVsAedes: 0.97,
        },
      },
      tags: {
        connect: [
          { devices: 1000, idCpuUs: 400, tag100CpuUs: 410, tagAllCpuUs: 420 },
          { devices: 100000, idCpuUs: 405, tag100CpuUs: 415, tagAllCpuUs: 430 },
        ],
        ratios: { tagVsIdAt100k: 1.06 },
      },
      store: {
        sizes: [
          { size: 1000, writeMs: 1.5, p99: 3, loadMs: 40, loadRssMB: 60 },
          { size: 100000, writeMs: 2.5, p99: 25, loadMs: 1500, loadRssMB: 250 },
        ],
      },
      subs: {
        rounds: 3,
        statePayloadBytes: 88,
        results: [
          { subscriptions: 1, matching: 1, keyportCpuUsPerPublish: 12.5, aedesCpuUsPerPublish: 7 },
          { subscriptions: 10000, matching: 1, keyportCpuUsPerPublish: 14, aedesCpuUsPerPublish: 8 },
          {
            subscriptions: 10000,
            matching: 10000,
            keyportCpuUsPerPublish: 90000,
            aedesCpuUsPerPublish: 70000,
            roundsKeyportCpuUsPerPublish: [80000, 90000, 100000],
          },
        ],
      },
      cli: { devicesListP50: 310, devicesListMin: 200, nodeP50: 150 },
    },
  };
}

const row = (md: string, name: string): string | undefined => md.split('\n').find((l) => l.startsWith(`| ${name} |`));

describe('issue 17 targets from the figures', () => {
  it('marks each target met, NOT MET or not measured', () => {
    const t = Object.fromEntries(issueTargets(results()).map((x) => [x.name, x]));
    expect(t['CONNECT rate vs plain aedes']).toMatchObject({ measured: '0.95×', met: true });
    expect(t['CONNECT broker CPU vs plain aedes']?.met).toBe(false);
    // QoS 1 at 0.79× fails the pair even though QoS 0 passes.
    expect(t['state-topic publish rate vs plain aedes, QoS 0 / QoS 1']).toMatchObject({
      measured: '0.85× / 0.79×',
      met: false,
    });
    expect(t['custom-topic publish rate vs plain aedes, QoS 0 / QoS 1']?.met).toBe(true);
    expect(t['tag-scoped CONNECT CPU at 100k devices vs a single-device key']?.met).toBe(true);
    expect(t['event-loop delay p99 while writing the store at 100k']).toMatchObject({
      measured: '25.0 ms',
      met: false,
    });
    expect(t['RSS per idle client over plain aedes']).toMatchObject({ measured: '1.50 KB', met: true });
    expect(t['store load at 100k keys + 100k devices: time / RSS']).toMatchObject({
      measured: '1.50 s / 250 MB',
      met: true,
    });
    // No auth section in this run.
    expect(t['HTTP device auth (POST /auth/device), cold / warm keys']).toMatchObject({ measured: '–', met: null });
    expect(t['CLI `keyport devices list`, no server (p50)']).toMatchObject({ measured: '310 ms', met: false });
  });

  it('a figure just inside its limit is met, just outside is not', () => {
    const r = results();
    const store = (r.sections as { store: { sizes: { p99: number }[] } }).store.sizes[1] as { p99: number };
    store.p99 = 20;
    const at = (x: Record<string, unknown>) => issueTargets(x).find((t) => t.name.startsWith('event-loop delay'))?.met;
    expect(at(r)).toBe(true);
    store.p99 = 20.01;
    expect(at(r)).toBe(false);
  });
});

describe('the rendered section', () => {
  const md = renderReadmeSection(results());

  it('states the machine, the date and the noise', () => {
    expect(md).toContain('full run of 2026-12-02 07:00 UTC, 322 s');
    expect(md).toContain(
      '2 cores (`nproc`), AMD EPYC, 24 GiB, Node v20.20.2, linux x64, aedes 1.2.0, mosquitto version 2.0.11',
    );
    expect(md).toContain('1.50 / 2.00 / 2.25 at the start and 3.00 / 2.50 / 2.25 at the end');
    // Spreads: connect 200/4000 = 5 %, subs 20000/90000 = 22.2 %.
    expect(md).toContain('13.6 % in the median and 22.2 % at most over 2 series');
  });

  it('has the targets table with verdicts', () => {
    expect(row(md, 'CONNECT rate vs plain aedes')).toBe('| CONNECT rate vs plain aedes | 0.95× | ≥ 0.9× | met |');
    expect(row(md, 'CONNECT broker CPU vs plain aedes')).toBe(
      '| CONNECT broker CPU vs plain aedes | 1.35× | ≤ 1.2× | NOT MET |',
    );
    expect(row(md, 'HTTP device auth (POST /auth/device), cold / warm keys')).toBe(
      '| HTTP device auth (POST /auth/device), cold / warm keys | – | ≥ 5,000/s each | not measured |',
    );
  });

  it('has the curve with publish CPU at 1 / 100 / 10,000 subscriptions and the CLI row', () => {
    expect(row(md, 'PUBLISH broker CPU, state report, 1 subscriber matching (µs)')).toBe(
      '| PUBLISH broker CPU, state report, 1 subscriber matching (µs) | 12.5 (aedes 7.00) | – | 14.0 (aedes 8.00) |',
    );
    expect(row(md, 'PUBLISH broker CPU, state report, every subscriber matching (µs)')).toBe(
      '| PUBLISH broker CPU, state report, every subscriber matching (µs) | 12.5 (aedes 7.00) | – | 90,000 (aedes 70,000) |',
    );
    expect(row(md, 'store: event-loop delay p99 while writing (ms)')).toBe(
      '| store: event-loop delay p99 while writing (ms) | 3.00 | – | 25.0 |',
    );
    expect(md).toContain('| CLI start: `keyport devices list`, p50 (ms; any size) | 310 (best 200; node -e 0: 150) |');
  });

  it('has what each piece costs when the run measured it (bench/cost.ts), and nothing when not', () => {
    expect(md).not.toContain('### What each piece costs');
    // Rows as bench/cost.ts writes them: variant id, CPU, saved vs everything on, CPU vs aedes.
    const rows = (...rs: [string, number, number, number][]) =>
      rs.map(([id, cpuUs, savedUs, cpuVsAedes]) => ({ id, variant: id, cpuUs, savedUs, cpuVsAedes }));
    const r = results();
    (r.sections as Record<string, unknown>).cost = {
      clients: 2000,
      passes: 10,
      messages: 50000,
      connect: {
        rows: rows(
          ['on', 230, 0, 1.48],
          ['decision', 215, 14, 1.38],
          ['status', 220, 10, 1.41],
          ['lastUse', 226, 4, 1.45],
          ['floor', 194, 37, 1.24],
        ),
        aedesCpuUs: 156,
        floorCpuVsAedes: 1.24,
      },
      publish: {
        stateQos0: {
          rows: rows(
            ['on', 9.61, 0, 1.59],
            ['decision', 9.06, 0.77, 1.5],
            ['state', 8.61, 1.4, 1.43],
            ['floor', 7.2, 2.2, 1.19],
          ),
          aedesCpuUs: 6.04,
          floorCpuVsAedes: 1.19,
        },
        // One piece: its own row is the floor.
        customQos0: {
          rows: rows(['on', 7.93, 0, 1.26], ['decision', 7.15, 0.92, 1.14]),
          aedesCpuUs: 6.28,
          floorCpuVsAedes: 1.14,
        },
      },
    };
    const withCost = renderReadmeSection(r);
    expect(withCost).toContain('### What each piece costs');
    expect(row(withCost, 'without the decision event (feed ring, decision log line, live listeners): saved (µs)')).toBe(
      '| without the decision event (feed ring, decision log line, live listeners): saved (µs) | 14.0 | 0.770 |  | 0.920 |',
    );
    expect(row(withCost, 'without the state intake (parse, validate, merge, store, history): saved (µs)')).toBe(
      '| without the state intake (parse, validate, merge, store, history): saved (µs) |  | 1.40 |  |  |',
    );
    expect(row(withCost, 'everything on vs plain aedes (CPU)')).toBe(
      '| everything on vs plain aedes (CPU) | 1.48× | 1.59× |  | 1.26× |',
    );
    expect(row(withCost, 'floor, every piece above off, vs plain aedes (CPU)')).toBe(
      '| floor, every piece above off, vs plain aedes (CPU) | 1.24× | 1.19× |  | 1.14× |',
    );
    // State QoS 1 was not in this run: its column stays empty.
    expect(row(withCost, 'plain aedes: broker CPU (µs)')).toBe(
      '| plain aedes: broker CPU (µs) | 156 | 6.04 |  | 6.28 |',
    );
    expect(withCost).toContain('(10 passes after a warm-up; 2,000 clients, 50,000 messages;');
  });

  it('names a partial run as such', () => {
    const r = { ...results(), kind: 'quick', only: ['subs'] };
    expect(renderReadmeSection(r)).toContain('(quick run of subs only of 2026-12-02 07:00 UTC');
  });
});

describe('README.md splice', () => {
  const readme = `# Keyport\n\nintro\n\n${README_START}\n\n## Performance\n\nold figures\n\n${README_END}\n\n## Cluster mode\n`;

  it('replaces what is between the markers and nothing else', () => {
    const out = spliceReadme(readme, '## Performance\n\nnew figures\n');
    expect(out).toBe(
      `# Keyport\n\nintro\n\n${README_START}\n\n## Performance\n\nnew figures\n\n${README_END}\n\n## Cluster mode\n`,
    );
    expect(spliceReadme(out, '## Performance\n\nnew figures\n')).toBe(out);
  });

  it('refuses a README without its markers', () => {
    expect(() => spliceReadme('# Keyport\n', 'x')).toThrow(/needs exactly one/);
    expect(() => spliceReadme(`${readme}${README_START}`, 'x')).toThrow(/needs exactly one/);
  });
});

describe('helpers', () => {
  it('roundSpread ignores series of one round and the printed tables', () => {
    const s = roundSpread({ a: { roundsX: [10] }, tables: [{ roundsY: [1, 100] }], b: [{ roundsZ: [9, 10, 11] }] });
    expect(s.series).toBe(1);
    expect(s.maxPct).toBeCloseTo(20);
  });

  it('curveTable shows – for sections a run did not include', () => {
    const t = curveTable({ sections: {} });
    expect(t.rows.every((r) => r.slice(1).every((c) => c === '–' || c === ''))).toBe(true);
  });
});
